/**
 * Masking of personal data for logs (KVKK; field case C34): phone numbers keep their last two
 * digits, e-mail addresses their domain. Applied by serializers to every string the gateway logs
 * about a request (URL, error messages), so no log line carries a full number or address.
 */
const EMAIL = /[^\s@"'<>,;:]+@([A-Za-z0-9.-]+\.[A-Za-z0-9-]+)/g;
const PHONE = /\+?\d[\d\s().-]{5,}\d/g;

/** Masks every phone number and e-mail address found in `s`. */
export function maskPii(s: string): string {
  return s
    .replace(EMAIL, (_m, domain: string) => `***@${domain}`)
    .replace(PHONE, (m) => {
      const digits = m.replace(/\D/g, '');
      return digits.length < 7 ? m : `***${digits.slice(-2)}`;
    });
}

/** Recursively masks strings of a log object (bounded depth); returns a new object. */
export function maskDeep(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return maskPii(v);
  if (depth > 6 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => maskDeep(x, depth + 1));
  if (v instanceof Error) {
    // an Error's fields are not enumerable: spell them out, or the log shows `{}` (review C1)
    const e = v as Error & { code?: unknown; statusCode?: unknown; cause?: unknown };
    return {
      type: e.name, message: maskPii(e.message), stack: e.stack ? maskPii(e.stack) : undefined,
      ...(e.code !== undefined ? { code: e.code } : {}), ...(e.statusCode !== undefined ? { statusCode: e.statusCode } : {}),
      ...(e.cause !== undefined ? { cause: maskDeep(e.cause, depth + 1) } : {}),
    };
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = /authorization|password|api-?key|token|secret/i.test(k) ? '[redacted]' : maskDeep(x, depth + 1);
  return out;
}
