import { gatewayError } from '../../errors.ts';

/**
 * Character sets a call list may be sent in. Turkish Excel saves "CSV" in Windows-1254 (C40);
 * ISO-8859-9 (Latin-5) is its ISO sibling. Every one of them is ASCII-compatible, so line breaks,
 * quotes and separators are single ASCII bytes and a list can be split into records on its bytes
 * without decoding it (the records are echoed as those bytes; only the recipient field is decoded).
 */
export const SCRUB_CHARSETS = ['utf-8', 'windows-1254', 'iso-8859-9'] as const;
export type ScrubCharset = (typeof SCRUB_CHARSETS)[number];

/** Labels accepted for each charset (WHATWG Encoding labels of the same encodings, lower case). */
const LABELS: Record<string, ScrubCharset> = {
  'utf-8': 'utf-8', utf8: 'utf-8', 'unicode-1-1-utf-8': 'utf-8',
  'windows-1254': 'windows-1254', cp1254: 'windows-1254', 'x-cp1254': 'windows-1254',
  'iso-8859-9': 'iso-8859-9', 'iso8859-9': 'iso-8859-9', iso88599: 'iso-8859-9', 'iso_8859-9': 'iso-8859-9',
  'iso_8859-9:1989': 'iso-8859-9', 'iso-ir-148': 'iso-8859-9', latin5: 'iso-8859-9', l5: 'iso-8859-9', csisolatin5: 'iso-8859-9',
};

/**
 * The charset a label names (case-insensitive, surrounding quotes and spaces ignored).
 * @throws GW_ERR_UNSUPPORTED_CHARSET (415, field `charset`) for any other label
 */
export function scrubCharset(label: string): ScrubCharset {
  const key = label.trim().replace(/^"(.*)"$/, '$1').trim().toLowerCase();
  const cs = LABELS[key];
  if (!cs) throw gatewayError('GW_ERR_UNSUPPORTED_CHARSET', [label.slice(0, 64), SCRUB_CHARSETS.join(', ')], { field: 'charset' });
  return cs;
}

/**
 * The charset of a `Content-Type` header value: its `charset` parameter (RFC 9110 §8.3.2), or
 * `utf-8` when there is none.
 * @throws GW_ERR_UNSUPPORTED_CHARSET (415) for a charset outside SCRUB_CHARSETS
 */
export function charsetOfContentType(contentType: string | undefined): ScrubCharset {
  if (!contentType) return 'utf-8';
  for (const part of contentType.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim().toLowerCase() === 'charset') return scrubCharset(part.slice(eq + 1));
  }
  return 'utf-8';
}

/**
 * What a list's first bytes say about its encoding (the WHATWG Encoding "decode" algorithm's BOM
 * sniff: a byte order mark overrides the declared label). `utf-8` for EF BB BF (3 bytes to skip
 * when deciding; they are echoed in the output), `null` for none.
 * @throws GW_ERR_UNSUPPORTED_CHARSET (415) for a UTF-16 BOM (Excel's "Unicode text" export):
 *   its line breaks are two bytes, and the list cannot be echoed byte for byte as records
 */
export function sniffBom(head: Buffer): { charset: ScrubCharset; length: number } | null {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { charset: 'utf-8', length: 3 };
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    throw gatewayError('GW_ERR_UNSUPPORTED_CHARSET', [`utf-16 (byte order mark ${head[0]!.toString(16)} ${head[1]!.toString(16)})`, SCRUB_CHARSETS.join(', ')], { field: 'charset' });
  }
  return null;
}

/** Decodes whole byte ranges (never a stream chunk: a range ends on a record boundary). */
export type RangeDecoder = (buf: Buffer, start: number, end: number) => string;

/**
 * A decoder of complete byte ranges in `charset`. UTF-8 through Buffer (invalid sequences become
 * U+FFFD, so such a recipient fails normalization and is blocked); Windows-1254 / ISO-8859-9
 * through the ICU TextDecoder (WHATWG maps both labels to windows-1254), ASCII ranges through the
 * latin1 fast path.
 */
export function rangeDecoder(charset: ScrubCharset): RangeDecoder {
  if (charset === 'utf-8') return (buf, start, end) => buf.toString('utf8', start, end);
  const td = new TextDecoder('windows-1254');
  return (buf, start, end) => {
    for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return td.decode(buf.subarray(start, end));
    return buf.toString('latin1', start, end);
  };
}
