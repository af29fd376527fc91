/**
 * RFC 5322 header blocks of relayed mail, as bytes: find where the header block ends, list its
 * fields, and rebuild it with some fields removed and others added. Every field that is neither
 * removed nor added goes out as the exact bytes it came in (the relay forwards byte for byte,
 * issue 13 "Forwarding").
 */

/** One header field of a message: lower-case name, unfolded value, and its bytes in the block. */
export interface HeaderField {
  /** Lower-case field name (`subject`, `x-iys-message-type`). */
  name: string;
  /** Value with folding removed and surrounding white space trimmed (bytes read as latin1). */
  value: string;
  /** Byte offsets of the whole field (name, value, continuation lines, line end) in the block. */
  start: number;
  end: number;
}

/**
 * Offset just past the empty line that ends the header block (`\r\n\r\n`), or -1 when `buf`
 * holds no complete header block yet. A message that starts with the empty line has an empty
 * block (offset 2). Bare LF never ends the block: the relay refuses bare LF (relay.ts).
 */
export function headerBlockEnd(buf: Buffer): number {
  if (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) return 2;
  const i = buf.indexOf('\r\n\r\n');
  return i < 0 ? -1 : i + 4;
}

/**
 * The fields of a header block (`block` = bytes up to and including the empty line). A line
 * that is neither a field nor a continuation (no colon) is kept as a field named '' so that
 * rebuilding keeps it byte for byte.
 */
export function parseHeaderFields(block: Buffer): HeaderField[] {
  const fields: HeaderField[] = [];
  const text = block.toString('latin1');
  let pos = 0;
  const stop = text.endsWith('\r\n\r\n') ? text.length - 2 : text.length;
  while (pos < stop) {
    let end = text.indexOf('\r\n', pos);
    end = end < 0 ? stop : end + 2;
    // continuation lines (start with space or tab) belong to this field
    while (end < stop && (text.charCodeAt(end) === 0x20 || text.charCodeAt(end) === 0x09)) {
      const next = text.indexOf('\r\n', end);
      end = next < 0 ? stop : next + 2;
    }
    const raw = text.slice(pos, end);
    const colon = raw.indexOf(':');
    const name = colon > 0 && !/[\s]/.test(raw.slice(0, colon)) ? raw.slice(0, colon).toLowerCase() : '';
    const value = name === '' ? '' : raw.slice(colon + 1).replace(/\r\n(?=[ \t])/g, '').trim();
    fields.push({ name, value, start: pos, end });
    pos = end;
  }
  return fields;
}

/** First value of field `name` (lower-case), or undefined. */
export function headerValue(fields: readonly HeaderField[], name: string): string | undefined {
  for (const f of fields) if (f.name === name) return f.value;
  return undefined;
}

/**
 * The block rebuilt: fields `remove` says true for dropped, `add` lines (each without line end)
 * put first (trace-like fields go on top, RFC 5321 §4.4), every other field's bytes unchanged,
 * then the empty line.
 */
export function rebuildHeaderBlock(block: Buffer, fields: readonly HeaderField[], remove: (f: HeaderField) => boolean, add: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const line of add) parts.push(Buffer.from(line + '\r\n', 'utf8'));
  for (const f of fields) if (!remove(f)) parts.push(block.subarray(f.start, f.end));
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

/**
 * Decodes RFC 2047 encoded words (`=?utf-8?B?…?=`, `=?iso-8859-9?Q?…?=`) in a header value;
 * white space between adjacent encoded words is dropped (RFC 2047 §6.2). Unknown charsets are
 * read as latin1. Undecodable words are kept as written. Never throws.
 */
export function decodeHeaderWords(value: string): string {
  const decoded = value.replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=(\s+(?==\?))?/g, (word, cs: string, enc: string, data: string) => {
    try {
      const bytes = enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64')
        : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      return decodeCharset(bytes, cs.replace(/\*.*$/, ''));
    } catch {
      return word;
    }
  });
  // an unencoded header may carry raw UTF-8 (RFC 6532, SMTPUTF8)
  return /[\x80-\xff]/.test(decoded) && !/=\?/.test(value) ? decodeCharset(Buffer.from(decoded, 'latin1'), 'utf-8') : decoded;
}

/** `bytes` decoded in `charset` (any WHATWG label: utf-8, iso-8859-9, windows-1254, …); latin1 when unknown. */
export function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder((charset ?? 'utf-8').trim().toLowerCase() || 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}
