/**
 * The provider path a proxied request names, read the way a provider's server may read it, so the
 * proxy screens what the provider will act on and forwards exactly that (field case C37: a path
 * decoded once to match the rules, then decoded again by the provider, reached the send API
 * unscreened; a decoded non-ASCII path made the upstream call fail as "delivery unknown").
 *
 * Rules (RFC 3986 §3.3, §5.2.4, §6.2, plus what common servers do beyond it):
 * - the raw request target is decoded **once**; a path still holding a `%` after that (an octet
 *   encoded twice, `%2565` → `%65`), an invalid or overlong UTF-8 sequence (`%C0%AF`), a control
 *   character (`%00`), a fragment (`#`) or a character outside printable ASCII in the raw target
 *   cannot be screened and is refused (UnsafePath);
 * - `\` and encoded `/` or `\` (`%2F`, `%5C`) separate segments; empty segments (`//`) and `.`
 *   are dropped, `..` removes the previous segment (above the root: refused);
 * - `;` parameters (`send;jsessionid=1`, `..;/`, also `%3B`) are removed from every segment;
 * - the matching `key` is NFKC-folded and lower-cased, with trailing dots and spaces of a segment
 *   removed (IIS ignores them); a trailing `/` does not count.
 */

/** A path that cannot be screened safely; `message` says why (for GW_ERR_UPSTREAM_UNREADABLE). */
export class UnsafePath extends Error {
  override name = 'UnsafePath';
}

export interface ProviderPath {
  /** What the screen matches: `/`-joined folded segments, lower case, no trailing `/` (`/` alone for the root). */
  key: string;
  /** True when `key` is plain printable ASCII (every provider's own paths are). */
  ascii: boolean;
  /** What is sent upstream: the same segments in their case, each percent-encoded exactly once; a trailing `/` kept. */
  wire: string;
}

/** pchar of RFC 3986 minus `;` (parameters are removed) and `%`: kept as they are on the wire. */
const PCHAR = /[A-Za-z0-9\-._~!$&'()*+,=:@]/;
const HEX = /^[0-9A-Fa-f]{2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a raw path (the request target after `/proxy/<upstream>`, without the query).
 * @param raw e.g. `/sms/s%2565nd/get`; `''` means the root
 * @throws UnsafePath (see module doc)
 */
export function providerPath(raw: string): ProviderPath {
  if (!/^[\x21-\x7e]*$/.test(raw)) throw new UnsafePath('the path holds a character outside printable ASCII');
  if (raw.includes('#')) throw new UnsafePath('the path holds a fragment (#)');
  const segments: string[] = [];
  let trailing = '';
  for (const rawSeg of raw.replace(/\\/g, '/').split('/')) {
    const decoded = decodeOnce(rawSeg.split(';', 1)[0]!);
    trailing = /^\.?$|[/\\]\.?$/.test(decoded.split(';', 1)[0]!) ? '/' : '';
    if (decoded.includes('%')) throw new UnsafePath('the path is percent-encoded twice');
    if (/[\u0000-\u001f\u007f-\u009f]/.test(decoded)) throw new UnsafePath('the path holds a control character');
    for (const part of decoded.split(/[/\\]/)) {
      const seg = part.split(';', 1)[0]!;
      if (seg === '' || seg === '.') continue;
      if (seg === '..') {
        if (segments.length === 0) throw new UnsafePath('the path leaves the upstream root');
        segments.pop();
        continue;
      }
      segments.push(seg);
    }
  }
  const folded = segments.map(fold);
  if (folded.some((s) => s === '..' || s === '.' || s.includes('/') || s.includes('\\'))) {
    throw new UnsafePath('a path segment reads as a dot segment or a separator once its letters are folded');
  }
  const key = '/' + folded.filter((s) => s !== '').join('/');
  return { key, ascii: /^[\x21-\x7e]*$/.test(key), wire: '/' + segments.map(encodeSegment).join('/') + (segments.length > 0 ? trailing : '') };
}

/** NFKC, lower case, trailing dots/spaces removed (the folding servers apply before routing). */
function fold(seg: string): string {
  const f = seg.normalize('NFKC').toLowerCase();
  const t = f.replace(/[. ]+$/, '');
  return t === '' ? f : t;
}

function decodeOnce(seg: string): string {
  if (!seg.includes('%')) return seg;
  const bytes: number[] = [];
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c === 0x25) {
      const hex = seg.slice(i + 1, i + 3);
      if (!HEX.test(hex)) throw new UnsafePath('the path holds a broken percent-encoding');
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(c);
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    throw new UnsafePath('the path is not valid UTF-8 once decoded (overlong or broken sequence)');
  }
}

/** A decoded segment percent-encoded once (UTF-8, upper-case hex), pchar kept. */
function encodeSegment(seg: string): string {
  let out = '';
  for (const ch of seg) {
    if (PCHAR.test(ch)) { out += ch; continue; }
    for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/**
 * The raw query (after `?`) made safe to send: returned as is when it is printable ASCII without
 * `#`, else refused (a provider could read a fragment or raw bytes differently).
 * @throws UnsafePath
 */
export function providerQuery(raw: string): string {
  if (!/^[\x21-\x7e]*$/.test(raw) || raw.includes('#')) throw new UnsafePath('the query holds a fragment or a character outside printable ASCII');
  return raw;
}
