import { gatewayError } from '../../errors.ts';
import type { RangeDecoder } from './charset.ts';

/**
 * RFC 4180 records of a call list, found on its bytes (no decoding, so a multi-byte letter split
 * across body chunks is never cut, and each record can be echoed as the exact bytes it came as).
 *
 * Rules (RFC 4180 §2, with csv-parse's `relax_quotes` reading of a quote inside an unquoted
 * field): a field that starts with `"` is quoted and may hold separators, `""` and line breaks;
 * a record ends at LF, CRLF or a lone CR outside quotes. A quote inside an unquoted field is a
 * plain character. A closing quote followed by anything but a separator or a line break, and a
 * quote still open at the end of the body, make the record malformed (`ok: false`): the scrub
 * blocks it rather than guess where it ends (csv-parse: INVALID_CLOSING_QUOTE, QUOTE_NOT_CLOSED).
 */

/** Field separators a list may use (query `delimiter`, CLI `--delimiter`). */
export const DELIMITERS = [',', ';', '\t'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

/** One record: bytes `buf[start, end)` without its line break, then `eol` line-break bytes. */
export interface CsvRecord {
  buf: Buffer;
  start: number;
  /** End of the content (exclusive); the line break, if any, is `buf[end, end + eol)`. */
  end: number;
  /** Line-break bytes after the content: 2 (CRLF), 1 (LF or CR) or 0 (last record, none). */
  eol: number;
  /** 1-based physical line on which the record starts (a quoted line break counts). */
  line: number;
  /** false: quoting broken (see the module note). */
  ok: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_SEEN = 3; // a quote inside a quoted field: closes it, or `""`

/**
 * Streaming record splitter. Memory: the records of one chunk plus one partial record, which is
 * bounded by `maxRecordBytes`.
 */
export class RecordSplitter {
  readonly #delim: number;
  readonly #max: number;
  #state = FIELD_START;
  #ok = true;
  #line = 1;
  #breaks = 0; // LFs inside quotes of the current record
  #pending: Buffer[] = [];
  #pendingLen = 0;
  #crPending = false; // the partial record ends with a CR outside quotes (CRLF may be split)

  /**
   * @param opts.delimiter the field separator, or null for a one-column list
   * @param opts.maxRecordBytes bound on a record's content (bytes, line break excluded)
   * @throws from push/end: GW_ERR_SCRUB_LINE_TOO_LONG (400) naming the record's first line, as soon
   *   as a record passes the bound (the rest of it is never held)
   */
  constructor(opts: { delimiter: Delimiter | null; maxRecordBytes: number }) {
    this.#delim = opts.delimiter === null ? -1 : opts.delimiter.charCodeAt(0);
    this.#max = opts.maxRecordBytes;
  }

  /** Appends the records completed by `chunk` to `out`. */
  push(chunk: Buffer, out: CsvRecord[]): void {
    const n = chunk.length;
    let i = 0;
    if (this.#crPending) {
      this.#crPending = false;
      const crlf = n > 0 && chunk[0] === LF;
      if (crlf) this.#pending.push(chunk.subarray(0, 1)), this.#pendingLen++, i = 1;
      this.#emitPending(out, crlf ? 2 : 1);
    }
    let start = i;
    let nlf = -1, nq = -1, ncr = -1; // next LF / quote / CR at or after i (n: none)
    const delim = this.#delim;
    while (i < n) {
      if (this.#state === FIELD_START && this.#pendingLen === 0 && i === start) {
        // fast path: a record with no quote and no lone CR ends at the next LF
        if (nlf < i) { nlf = chunk.indexOf(LF, i); if (nlf === -1) nlf = n; }
        if (nq < i) { nq = chunk.indexOf(QUOTE, i); if (nq === -1) nq = n; }
        if (ncr < i) { ncr = chunk.indexOf(CR, i); if (ncr === -1) ncr = n; }
        if (nlf < n && nq > nlf && ncr >= nlf - 1) {
          const crlf = ncr === nlf - 1;
          this.#emit(out, chunk, i, crlf ? nlf - 1 : nlf, crlf ? 2 : 1);
          i = start = nlf + 1;
          continue;
        }
      }
      // slow path: byte by byte to the end of this record or of the chunk
      let ended = false;
      for (; i < n; i++) {
        const c = chunk[i]!;
        let s = this.#state;
        if (s === QUOTED) {
          if (c === QUOTE) this.#state = QUOTE_SEEN;
          else if (c === LF) this.#breaks++;
          continue;
        }
        if (s === QUOTE_SEEN) {
          if (c === QUOTE) { this.#state = QUOTED; continue; }
          s = this.#state = UNQUOTED; // the field is closed; what follows must end it
          if (c !== delim && c !== LF && c !== CR) { this.#ok = false; continue; }
        }
        if (c === delim) { this.#state = FIELD_START; continue; }
        if (c === LF) {
          this.#finish(out, chunk, start, i, 1);
          i++; ended = true; break;
        }
        if (c === CR) {
          if (i + 1 === n) { this.#crPending = true; i++; break; }
          const crlf = chunk[i + 1] === LF;
          this.#finish(out, chunk, start, i, crlf ? 2 : 1);
          i += crlf ? 2 : 1; ended = true; break;
        }
        if (s === FIELD_START) this.#state = c === QUOTE ? QUOTED : UNQUOTED;
      }
      if (ended) { start = i; continue; }
    }
    if (start < n) {
      this.#pending.push(chunk.subarray(start, n));
      this.#pendingLen += n - start;
      if (this.#pendingLen - (this.#crPending ? 1 : 0) > this.#max) this.#tooLong();
    }
  }

  /** Appends the last record (one without a line break) to `out`; a quote left open makes it malformed. */
  end(out: CsvRecord[]): void {
    if (this.#crPending) { this.#crPending = false; this.#emitPending(out, 1); return; }
    if (this.#pendingLen === 0) return;
    if (this.#state === QUOTED) this.#ok = false;
    this.#emitPending(out, 0);
  }

  /** A record that ends in `chunk` at `end` (content) with `eol` break bytes, begun at `start` or before. */
  #finish(out: CsvRecord[], chunk: Buffer, start: number, end: number, eol: number): void {
    if (this.#pendingLen === 0) { this.#emit(out, chunk, start, end, eol); return; }
    this.#pending.push(chunk.subarray(start, end + eol));
    this.#pendingLen += end + eol - start;
    this.#emitPending(out, eol);
  }

  /** The pending parts as one record whose last `eol` bytes are its line break. */
  #emitPending(out: CsvRecord[], eol: number): void {
    const buf = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingLen);
    this.#pending = [];
    this.#pendingLen = 0;
    this.#emit(out, buf, 0, buf.length - eol, eol);
  }

  #emit(out: CsvRecord[], buf: Buffer, start: number, end: number, eol: number): void {
    if (end - start > this.#max) this.#tooLong();
    out.push({ buf, start, end, eol, line: this.#line, ok: this.#ok });
    this.#line += 1 + this.#breaks;
    this.#breaks = 0;
    this.#ok = true;
    this.#state = FIELD_START;
  }

  #tooLong(): never {
    throw gatewayError('GW_ERR_SCRUB_LINE_TOO_LONG', [this.#line, this.#max], { field: 'body' });
  }
}

/**
 * The separator of a list, judged on its first records (up to 10 in `sample`, quotes honoured by
 * parity). Each candidate (`,` `;` tab) that occurs is ranked by: how many of those records have
 * a first field that `isRecipient` accepts when split on it (the recipient is the first column,
 * so `0555…;Ali, Veli` is `;`), then in how many records it occurs the same number of times, then
 * that number, then the order `,` `;` tab. null when none occurs: a one-column list.
 */
export function detectDelimiter(sample: Buffer, isRecipient?: (field: string) => boolean, decode?: RangeDecoder): Delimiter | null {
  const counts: number[][] = [[], [], []];
  const cur = [0, 0, 0];
  let quoted = false;
  let records = 0;
  let nonEmpty = false;
  for (let i = 0; i < sample.length && records < 10; i++) {
    const c = sample[i]!;
    if (c === QUOTE) { quoted = !quoted; nonEmpty = true; continue; }
    if (quoted) continue;
    if (c === LF || c === CR) {
      if (nonEmpty) { for (let k = 0; k < 3; k++) counts[k]!.push(cur[k]!); records++; }
      cur.fill(0); nonEmpty = false;
      continue;
    }
    if (c !== 0x20) nonEmpty = true;
    if (c === 0x2c) cur[0]!++; else if (c === 0x3b) cur[1]!++; else if (c === 0x09) cur[2]!++;
  }
  if (nonEmpty && records < 10) for (let k = 0; k < 3; k++) counts[k]!.push(cur[k]!);
  let best: Delimiter | null = null;
  let bestRank: number[] = [];
  for (let k = 0; k < 3; k++) {
    const freq = new Map<number, number>();
    for (const v of counts[k]!) if (v > 0) freq.set(v, (freq.get(v) ?? 0) + 1);
    if (freq.size === 0) continue;
    let score = 0, modal = 0;
    for (const [v, n] of freq) if (n > score || (n === score && v > modal)) { score = n; modal = v; }
    const d = DELIMITERS[k]!;
    const rank = [isRecipient ? recipientHits(sample, d, isRecipient, decode ?? ((b, s, e) => b.toString('utf8', s, e))) : 0, score, modal];
    if (best === null || ranksAbove(rank, bestRank)) { best = d; bestRank = rank; }
  }
  return best;
}

/** `a` > `b`, compared element by element (lexicographic). */
function ranksAbove(a: number[], b: number[]): boolean {
  for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return a[j]! > b[j]!;
  return false;
}

/** Of the first 10 records of `sample` split on `d`, how many have a first field `isRecipient` accepts. */
function recipientHits(sample: Buffer, d: Delimiter, isRecipient: (field: string) => boolean, decode: RangeDecoder): number {
  const sp = new RecordSplitter({ delimiter: d, maxRecordBytes: Number.MAX_SAFE_INTEGER });
  const recs: CsvRecord[] = [];
  sp.push(sample, recs);
  let hits = 0;
  for (const r of recs.slice(0, 10)) if (r.ok && isRecipient(firstField(r, d, decode))) hits++;
  return hits;
}

/**
 * The first field of a record, decoded and trimmed: a quoted field unquoted (`""` → `"`), an
 * unquoted one up to the separator; surrounding quotes left after trimming (` "0555…" `) removed.
 */
export function firstField(rec: CsvRecord, delimiter: Delimiter | null, decode: RangeDecoder): string {
  const { buf, start, end } = rec;
  if (start < end && buf[start] === QUOTE) {
    let i = start + 1;
    let escaped = false;
    for (; i < end; i++) {
      if (buf[i] !== QUOTE) continue;
      if (i + 1 < end && buf[i + 1] === QUOTE) { escaped = true; i++; continue; }
      break;
    }
    const v = decode(buf, start + 1, i);
    return (escaped ? v.replaceAll('""', '"') : v).trim();
  }
  let stop = end;
  if (delimiter !== null) {
    const d = buf.indexOf(delimiter.charCodeAt(0), start);
    if (d !== -1 && d < end) stop = d;
  }
  let f = decode(buf, start, stop).trim();
  if (f.length >= 2 && f.startsWith('"') && f.endsWith('"')) f = f.slice(1, -1).trim();
  return f;
}

/**
 * Field `index` (0-based) of a record, unquoted and trimmed like `firstField`; '' when the record
 * has fewer fields. Quoted fields may hold the separator and `""`.
 */
export function fieldAt(rec: CsvRecord, delimiter: Delimiter | null, decode: RangeDecoder, index: number): string {
  if (index === 0 || delimiter === null) return index === 0 ? firstField(rec, delimiter, decode) : '';
  const { buf, end } = rec;
  const d = delimiter.charCodeAt(0);
  let i = rec.start;
  for (let f = 0; f < index; f++) {
    // skip field f
    if (i < end && buf[i] === QUOTE) {
      i++;
      for (; i < end; i++) { if (buf[i] === QUOTE) { if (i + 1 < end && buf[i + 1] === QUOTE) { i++; continue; } i++; break; } }
    }
    while (i < end && buf[i] !== d) i++;
    if (i >= end) return '';
    i++; // past the separator
  }
  return firstField({ ...rec, start: i }, delimiter, decode);
}

/** Every field of a record (header names), unquoted and trimmed like `firstField`: one pass over the record. */
export function fieldsOf(rec: CsvRecord, delimiter: Delimiter | null, decode: RangeDecoder, max = 256): string[] {
  if (delimiter === null) return [firstField(rec, delimiter, decode)];
  const d = delimiter.charCodeAt(0);
  const out: string[] = [];
  let start = rec.start;
  let quoted = false;
  for (let i = rec.start; i <= rec.end && out.length < max; i++) {
    if (i < rec.end && rec.buf[i] === QUOTE) { quoted = !quoted; continue; }
    if (i === rec.end || (!quoted && rec.buf[i] === d)) {
      out.push(firstField({ ...rec, start, end: i }, delimiter, decode));
      start = i + 1;
    }
  }
  return out;
}
