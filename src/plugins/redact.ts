/**
 * Masking of personal data for logs (KVKK; field case C34): phone numbers keep their last two
 * digits, e-mail addresses their domain. Applied by serializers to every string the gateway logs
 * about a request (URL, error messages), so no log line carries a full number or address.
 *
 * Only recipients are masked (issue 10): dates and times (`2026-11-29 10:00:00`, ISO 8601,
 * `29.11.2026`), UUIDs (job and request ids) and runs of fewer than 10 digits (8 after a `+`:
 * no full phone number is shorter) are left as they are.
 */
const EMAIL = String.raw`[^\s@"'<>,;:]+@([A-Za-z0-9.-]+\.[A-Za-z0-9-]+)`;
const UUID = String.raw`\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b`;
// a calendar date, optionally with its time and zone: years 1900–2099, real months and days
const DATE = String.raw`(?<!\d)(?:(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:?\d\d)?)?|(?:0[1-9]|[12]\d|3[01])\.(?:0[1-9]|1[0-2])\.(?:19|20)\d\d(?: (?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?)?)(?!\d)`;
const PHONE = String.raw`\+?\d[\d\s().-]{5,}\d`;
const PII = new RegExp(`(${UUID})|(${DATE})|${EMAIL}|(${PHONE})`, 'g');

/** Masks every phone number and e-mail address found in `s`. */
export function maskPii(s: string): string {
  return s.replace(PII, (m, uuid: string | undefined, date: string | undefined, domain: string | undefined, phone: string | undefined) => {
    if (uuid !== undefined || date !== undefined) return m;
    if (domain !== undefined) return `***@${domain}`;
    const digits = phone!.replace(/\D/g, '');
    return digits.length < (phone!.startsWith('+') ? 8 : 10) ? m : `***${digits.slice(-2)}`;
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
