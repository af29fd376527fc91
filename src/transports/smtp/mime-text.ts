import { readableParts } from '../../domain/html-text.ts';
import { decodeCharset, decodeHeaderWords, headerBlockEnd, headerValue, parseHeaderFields, type HeaderField } from './headers.ts';

/** What the promotional lint reads of one e-mail (screening.ts `OutboundMessage.texts`, `unseenText`). */
export interface LintTexts {
  texts: string[];
  /** Set when the first text part could not be read within the lint window (the policy then treats the mail as promotional). */
  unseenText?: string;
}

/** A Content-Type value: lower-case `type/subtype` and its parameters (lower-case names). */
export function parseContentType(value: string | undefined): { type: string; params: Record<string, string> } {
  if (!value) return { type: 'text/plain', params: {} };
  const [head, ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params[p.slice(0, eq).trim().toLowerCase()] = v;
  }
  return { type: (head ?? '').trim().toLowerCase() || 'text/plain', params };
}

/**
 * The texts the promotional lint reads: the Subject (RFC 2047 decoded) and the first
 * `text/plain` or `text/html` part (HTML as its visible and hidden text, domain/html-text.ts),
 * decoded from quoted-printable or base64 and from its charset, at most `maxChars` characters.
 * Reads only `body`, the first bytes of the body (the caller caps them); `complete` says whether
 * that is the whole body. When the first text part does not start within `body` and the body
 * goes on, `unseenText` says so. Never throws.
 * @param fields the message's header fields (headers.ts)
 */
export function lintTexts(fields: readonly HeaderField[], body: Buffer, complete: boolean, maxChars: number): LintTexts {
  const texts: string[] = [];
  const subject = headerValue(fields, 'subject');
  if (subject) texts.push(decodeHeaderWords(subject));
  const part = firstTextPart(fields, body, 0);
  if (part === 'unseen') {
    if (!complete) return { texts, unseenText: 'the first text part starts past the lint window' };
    return { texts };
  }
  if (part) {
    const text = decodePart(part.fields, part.body).slice(0, maxChars);
    const html = parseContentType(headerValue(part.fields, 'content-type')).type === 'text/html';
    texts.push(...readableParts(text, html));
  }
  return { texts };
}

interface Part { fields: HeaderField[]; body: Buffer }

/** Depth-first first text part; 'unseen' when a multipart is cut before one appears; null when none. */
function firstTextPart(fields: HeaderField[] | readonly HeaderField[], body: Buffer, depth: number): Part | 'unseen' | null {
  const ct = parseContentType(headerValue(fields, 'content-type'));
  if (ct.type === 'text/plain' || ct.type === 'text/html') return { fields: [...fields], body };
  if (!ct.type.startsWith('multipart/') || !ct.params.boundary || depth > 8) return null;
  const delim = Buffer.from('--' + ct.params.boundary);
  let at = body.indexOf(delim);
  if (at < 0) return 'unseen';
  while (at >= 0) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) return 'unseen';
    if (body[at + delim.length] === 0x2d && body[at + delim.length + 1] === 0x2d) return null; // closing delimiter
    const start = lineEnd + 2;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), start);
    const partBuf = next < 0 ? body.subarray(start) : body.subarray(start, next);
    const hEnd = headerBlockEnd(partBuf);
    if (hEnd < 0) return 'unseen';
    const pf = parseHeaderFields(partBuf.subarray(0, hEnd));
    const found = firstTextPart(pf, partBuf.subarray(hEnd), depth + 1);
    if (found) return found;
    if (next < 0) return 'unseen';
    at = next + 2;
  }
  return null;
}

/** A part's body decoded from its Content-Transfer-Encoding and charset. */
function decodePart(fields: readonly HeaderField[], body: Buffer): string {
  const cte = (headerValue(fields, 'content-transfer-encoding') ?? '7bit').toLowerCase();
  const charset = parseContentType(headerValue(fields, 'content-type')).params.charset;
  let bytes: Buffer = body;
  if (cte === 'base64') {
    const clean = body.toString('latin1').replace(/[^A-Za-z0-9+/]/g, '');
    bytes = Buffer.from(clean.slice(0, clean.length - (clean.length % 4)), 'base64');
  } else if (cte === 'quoted-printable') {
    bytes = decodeQuotedPrintable(body);
  }
  return decodeCharset(bytes, charset);
}

/** RFC 2045 §6.7 quoted-printable: soft line breaks removed, `=XX` decoded; bad escapes kept. */
export function decodeQuotedPrintable(buf: Buffer): Buffer {
  const s = buf.toString('latin1').replace(/=\r\n/g, '');
  return Buffer.from(s.replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
}
