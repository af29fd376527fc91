import type { RecordContext } from '../../check/decision-log/decision-log.ts';
import type { CheckService } from '../../check/check-service.ts';
import type { ConsentType, MessageType, RecipientType } from '../../domain/types.ts';
import { normalizeRecipient } from '../../domain/recipient.ts';
import { LoopSlice } from '../../mirror/loop-slice.ts';
import { rangeDecoder, sniffBom, type RangeDecoder, type ScrubCharset } from './charset.ts';
import { detectDelimiter, fieldAt, fieldsOf, firstField, RecordSplitter, type CsvRecord, type Delimiter } from './csv-records.ts';
import { gatewayError } from '../../errors.ts';

/** How the first record is read (query `header`, CLI `--header`). */
export const HEADER_MODES = ['auto', 'true', 'false'] as const;
export type HeaderMode = (typeof HEADER_MODES)[number];

/** Default bound on one record (config `scrubMaxRecordBytes`): 64 KiB. */
export const DEFAULT_SCRUB_MAX_RECORD_BYTES = 64 * 1024;

/** What to check every line against (query of `POST /v1/scrub`, flags of `iys-gate scrub`). */
export interface ScrubOptions {
  brandCode: number;
  type: ConsentType;
  messageType: MessageType;
  recipientType: RecipientType;
  /** false: only allowed records, byte for byte; true: every record + `<sep>DECISION<sep>REASON`. */
  annotate: boolean;
  /** Records per batched lookup. Default 2,048 (a few ms of lookups; 1,024 cost ~8 % more CPU, 4,096 ~2 % less). */
  batchSize?: number;
  /** Encoding of the list (the output is in the same bytes). Default `utf-8`; a UTF-8 BOM wins. */
  charset?: ScrubCharset;
  /**
   * `auto` (default): the first record is a header only when it holds no recipient: no run of 7+
   * digits (single separators `space - . ( ) /` between them), no `@`, and a first field that is
   * not a recipient (C41). `true`: it is the header, unless its first field or its first digit
   * run is a recipient, which is then decided like any record (a flag never lets a refused
   * number through). `false`: data.
   */
  header?: HeaderMode;
  /** Field separator; `auto` (default) judges it on the first records (csv-records.ts). */
  delimiter?: Delimiter | 'auto';
  /** Bound on one record in bytes (GW_ERR_SCRUB_LINE_TOO_LONG past it). Default 65,536. */
  maxRecordBytes?: number;
  /** The decision log context of the whole list (one request-level id for all its batches); unset = not recorded. */
  record?: RecordContext | undefined;
  /**
   * The recipient's column: a 1-based position (`"5"`) or a header name (case-insensitive,
   * `"phone_number"`; the first record is then the header). Default: the first field.
   */
  column?: string | undefined;
  /**
   * A dialer's list layout (LIST_FORMATS): sets `column` when none is given, so a list exported
   * for that dialer is scrubbed and uploaded unchanged. Default `generic` (first field).
   */
  format?: ListFormat | undefined;
}

/**
 * Call list layouts of the dialers iys-gate fronts: where the number is, and whether the dialer
 * always reads the first record as a header (`header`, the default of query `header`).
 * - `vicidial`: VICIdial's list loader "standard format" (vendor_lead_code, source_code, list_id,
 *   phone_code, phone_number, …: the 5th field) or its export with a `phone_number` header.
 * - `goautodial`: GOautodial's lead upload (github.com/goautodial/goAPIv2
 *   `goUploadLeads/goUploadMe.php`): the first record is always skipped as the header, then
 *   phone_number, vendor_lead_code, phone_code, title, first_name, … comments (21 standard
 *   columns, custom fields after them): the number is the 1st field. Its `alt_phone` (18th
 *   field) is not screened: a dialer set to auto-alt-dial calls it too (README "Calls").
 * Verimor's and Netgsm's panels take Excel/CSV uploads, but neither publishes a column layout
 * (Verimor docs `oim/bulut-santralim/otomatik-arama.md` says only "Excel/CSV"); their API lists
 * are screened by the proxy adapters instead (`phone_list`, `data.numbers`).
 */
export const LIST_FORMATS = {
  generic: { names: [] as string[], position: 0 },
  vicidial: { names: ['phone_number'], position: 4 },
  goautodial: { names: [] as string[], position: 0, header: 'true' },
} as const satisfies Record<string, { names: readonly string[]; position: number; header?: HeaderMode }>;
export type ListFormat = keyof typeof LIST_FORMATS;

/** Running counts of a scrub (updated as output is produced). */
export interface ScrubStats { lines: number; allowed: number; blocked: number; header: boolean }

/** Annotation reason of a record whose quoting is broken (never emitted in the plain output). */
export const MALFORMED_RECORD = 'MALFORMED_CSV_RECORD';

/**
 * The recipient of a list line given as a string: the whole line for a plain list, else the first
 * CSV field (separator `,`, `;` or tab; surrounding double quotes removed).
 */
export function recipientOfLine(line: string): string {
  let end = line.length;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 44 || c === 59 || c === 9) { end = i; break; } // , ; \t
  }
  let f = line.slice(0, end).trim();
  if (f.length >= 2 && f.startsWith('"') && f.endsWith('"')) f = f.slice(1, -1).trim();
  return f;
}

const BLANK = -1;
const HEADER = -2;
const MALFORMED = -3;

const PHONE_RUN = /\p{Nd}(?:[\s\-.()/]{0,3}\p{Nd}){6,}/u;

/** C41: a first line holding a phone-like digit run, an `@` or a recipient in its first field is data. */
export function looksLikeData(text: string, first: string, type: ConsentType): boolean {
  return PHONE_RUN.test(text) || text.includes('@') || normalizeRecipient(first, type).ok;
}

/**
 * `header=true`: the recipient a first line still holds (its first field, else its first
 * phone-like digit run, when either normalizes for `type`), which is then decided; null: none.
 */
export function recipientInLine(text: string, first: string, type: ConsentType): string | null {
  if (normalizeRecipient(first, type).ok) return first;
  const run = PHONE_RUN.exec(text)?.[0];
  return run !== undefined && normalizeRecipient(run, type).ok ? run : null;
}

/** Output bytes built by copying (one Buffer per batch). */
class Out {
  buf = Buffer.allocUnsafe(64 * 1024);
  len = 0;
  #room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  bytes(src: Buffer, start: number, end: number): void { this.#room(end - start); src.copy(this.buf, this.len, start, end); this.len += end - start; }
  ascii(s: string): void { this.#room(s.length); this.len += this.buf.write(s, this.len, 'latin1'); }
  take(): Buffer | null {
    if (this.len === 0) return null;
    const b = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    return b;
  }
}

/**
 * A call-list scrub. `run(source)` streams the list (CSV or one recipient per line; LF, CRLF or CR;
 * any size) and yields output: allowed records as the exact bytes they came as (line break
 * included, so a CRLF or Windows-1254 list comes back in its own bytes), or with `annotate` every
 * record + `<sep>DECISION<sep>REASON` (sep: the list's separator, `,` for a one-column list).
 * Blank lines and the header are echoed; a malformed record is blocked (`MALFORMED_CSV_RECORD`).
 * Nothing is yielded before the first batch is decided, so an error in the first batch (a
 * record over the bound, a UTF-16 list) can still be answered as a coded 4xx.
 * Memory: `batchSize` records plus one input chunk plus one partial record (≤ maxRecordBytes).
 * Loop: yields every 2 ms of work (LoopSlice), so checks are answered while a list is scrubbed.
 * @throws GW_ERR_SCRUB_LINE_TOO_LONG (400), GW_ERR_UNSUPPORTED_CHARSET (415, UTF-16 BOM)
 */
export class CallListScrub {
  readonly stats: ScrubStats;
  /** The list's encoding once known (the declared one, or UTF-8 after a UTF-8 BOM). */
  charset: ScrubCharset;
  /** The separator in use once the first records are read (null: one column). */
  delimiter: Delimiter | null = null;
  readonly #checks: CheckService;
  readonly #opts: ScrubOptions;

  constructor(checks: CheckService, opts: ScrubOptions, stats: ScrubStats = { lines: 0, allowed: 0, blocked: 0, header: false }) {
    this.#checks = checks;
    this.#opts = opts;
    this.stats = stats;
    this.charset = opts.charset ?? 'utf-8';
  }

  async *run(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): AsyncGenerator<Buffer> {
    const opts = this.#opts;
    const stats = this.stats;
    const size = opts.batchSize ?? 2048;
    // the scrub shares the request loop in 2 ms slices (loop-slice.ts, issue 12 item 6): a
    // concurrent check waits at most about one slice (or one batch lookup) behind it
    const slice = new LoopSlice();
    // where the recipient is: a position, or a header name resolved on the first record
    const preset: { names: readonly string[]; position: number; header?: HeaderMode } = LIST_FORMATS[opts.format ?? 'generic'];
    const headerMode = opts.header ?? preset.header ?? 'auto';
    let col: number = preset.position;
    let byName: string[] | null = preset.names.length > 0 ? [...preset.names] : null;
    if (opts.column !== undefined) {
      if (/^[0-9]+$/.test(opts.column)) {
        col = Number(opts.column) - 1;
        byName = null;
        if (col < 0 || col > 255) throw gatewayError('GW_ERR_VALIDATION', ['column is a position from 1 to 256, or a header name'], { field: 'column' });
      } else byName = [opts.column.trim().toLowerCase()];
      if (byName !== null && headerMode === 'false') throw gatewayError('GW_ERR_VALIDATION', ['a named column needs the header: header must not be false'], { field: 'column' });
    }
    const req = { brandCode: opts.brandCode, type: opts.type, recipientType: opts.recipientType, messageType: opts.messageType };
    const out = new Out();
    let decode: RangeDecoder = rangeDecoder(this.charset);
    let splitter = null as RecordSplitter | null;
    let sep = ',';
    let firstSeen = false;
    let eolKnown = false;
    let eolOfList = '\n';
    // the batch, in list order: records and what each is (>= 0: index of its recipient)
    let batch: CsvRecord[] = [];
    let kinds: number[] = [];
    let recipients: string[] = [];
    let decided = false; // a batch was decided (output may flow)
    let head: Buffer[] = []; // input held back to judge the BOM and the separator
    let headLen = 0;
    const records: CsvRecord[] = [];

    const eolText = (r: CsvRecord): string => (r.eol === 2 ? '\r\n' : r.eol === 1 ? String.fromCharCode(r.buf[r.end]!) : eolOfList);
    const annotated = (r: CsvRecord, suffix: string): void => { out.bytes(r.buf, r.start, r.end); out.ascii(suffix + eolText(r)); };
    const flush = async (): Promise<void> => {
      const b = batch, ks = kinds, rs = recipients;
      batch = []; kinds = []; recipients = [];
      const results = rs.length > 0 ? (await this.#checks.checkBatch(req, rs, opts.record)).results : [];
      for (let i = 0; i < b.length; i++) {
        const r = b[i]!, k = ks[i]!;
        if (k === BLANK) { out.bytes(r.buf, r.start, r.end + r.eol); continue; }
        if (k === HEADER) { if (opts.annotate) annotated(r, `${sep}decision${sep}reason`); else out.bytes(r.buf, r.start, r.end + r.eol); continue; }
        stats.lines++;
        const res = k === MALFORMED ? null : results[k]!;
        if (res?.decision === 'ALLOW') {
          stats.allowed++;
          if (opts.annotate) annotated(r, `${sep}ALLOW${sep}${res.reason}`); else out.bytes(r.buf, r.start, r.end + r.eol);
        } else {
          stats.blocked++;
          if (opts.annotate) annotated(r, res ? `${sep}${res.decision}${sep}${res.reason}` : `${sep}BLOCK${sep}${MALFORMED_RECORD}`);
        }
      }
      decided = true;
    };
    const isBlank = (r: CsvRecord): boolean => {
      for (let i = r.start; i < r.end; i++) { const c = r.buf[i]; if (c !== 0x20 && c !== 0x09) return false; }
      return true;
    };
    const take = (r: CsvRecord): void => {
      if (r.eol > 0 && !eolKnown) { eolOfList = eolText(r); eolKnown = true; }
      batch.push(r);
      if (isBlank(r)) { kinds.push(BLANK); return; }
      if (!r.ok) { firstSeen = true; kinds.push(MALFORMED); return; }
      if (!firstSeen && byName !== null) {
        // a named column: the first record is the header that names it
        firstSeen = true;
        const names = fieldsOf(r, this.delimiter, decode).map((n) => n.toLowerCase());
        const at = byName.findIndex((n) => names.includes(n));
        if (at !== -1) {
          col = names.indexOf(byName[at]!);
          stats.header = true;
          kinds.push(HEADER);
          return;
        }
        if (opts.column !== undefined) throw gatewayError('GW_ERR_VALIDATION', [`column ${JSON.stringify(opts.column)} is not in the list's header`], { field: 'column' });
        // a preset whose header is absent: the layout's position, first record is data unless it reads as a header
        firstSeen = false;
      }
      const first = col === 0 ? firstField(r, this.delimiter, decode) : fieldAt(r, this.delimiter, decode, col);
      let recipient = first;
      if (!firstSeen) {
        firstSeen = true;
        if (headerMode !== 'false') {
          const text = decode(r.buf, r.start, r.end);
          const inside = headerMode === 'true' ? recipientInLine(text, first, opts.type) : null;
          if (inside !== null) recipient = inside;
          else if (headerMode === 'true' || !looksLikeData(text, first, opts.type)) {
            stats.header = true;
            kinds.push(HEADER);
            return;
          }
        }
      }
      kinds.push(recipients.length);
      recipients.push(recipient);
    };

    const start = (): void => {
      const all = headLen > 0 ? Buffer.concat(head, headLen) : Buffer.alloc(0);
      head = [];
      let body = all;
      const bom = sniffBom(all);
      if (bom) {
        this.charset = bom.charset;
        decode = rangeDecoder(bom.charset);
        out.bytes(all, 0, bom.length);
        body = all.subarray(bom.length);
      }
      this.delimiter = opts.delimiter && opts.delimiter !== 'auto' ? opts.delimiter : detectDelimiter(body.subarray(0, 64 * 1024), (f) => normalizeRecipient(f, opts.type).ok, decode);
      if (this.delimiter !== null) sep = this.delimiter;
      splitter = new RecordSplitter({ delimiter: this.delimiter, maxRecordBytes: opts.maxRecordBytes ?? DEFAULT_SCRUB_MAX_RECORD_BYTES });
      splitter.push(body, records);
    };
    const drain = async function* (this: void, final: boolean): AsyncGenerator<Buffer> {
      for (let i = 0; i < records.length; i++) {
        take(records[i]!);
        if (batch.length >= size) { await flush(); const b = out.take(); if (b) yield b; }
        if ((i & 127) === 127 && slice.due) await slice.yield();
      }
      if (slice.due) await slice.yield();
      records.length = 0;
      if (final) await flush();
      if (decided) { const b = out.take(); if (b) yield b; }
    };

    for await (const chunk of source) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      if (splitter === null) {
        head.push(buf);
        headLen += buf.length;
        // enough to judge the separator: 64 KiB or 10 line breaks
        if (headLen < 64 * 1024 && countLf(head) < 10) continue;
        start();
      } else splitter.push(buf, records);
      yield* drain(false);
    }
    if (splitter === null) start();
    splitter!.end(records);
    yield* drain(true);
  }
}

function countLf(parts: Buffer[]): number {
  let n = 0;
  for (const p of parts) for (let i = p.indexOf(0x0a); i !== -1 && n < 10; i = p.indexOf(0x0a, i + 1)) n++;
  return n;
}

/**
 * Streams a call list and yields output chunks (CallListScrub.run with its counts in `stats`).
 * @param stats updated in place (progress bars, summaries)
 */
export function scrubLines(source: AsyncIterable<Buffer | string>, checks: CheckService, opts: ScrubOptions, stats?: ScrubStats): AsyncGenerator<Buffer> {
  return new CallListScrub(checks, opts, stats).run(source);
}
