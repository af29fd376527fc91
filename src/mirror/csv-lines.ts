import { parse as parseSync } from 'csv-parse/sync';

/** Longest quoted record (characters, line breaks included) accepted before it is reported as
 * broken (GW_ERR_IMPORT_ROW_SHAPE in an import, H092 in an upload). */
export const MAX_QUOTED_RECORD = 64 * 1024;
/** Longest line (characters): a longer one is reported and skipped to the next newline, so a body
 * without newlines can neither grow memory nor cost quadratic time (review finding C2). */
export const MAX_LINE = 64 * 1024;

/**
 * Splits streamed CSV text into records, calling `onRecord(fields, line)` synchronously.
 *
 * İYS files carry no quoting, so a line without `"` is split on `,` directly (about 10× faster
 * than csv-parse, which capped imports at ~150,000 rows/s here: bench/README.md); a line with a
 * quote — and the lines that continue its quoted field — goes to csv-parse, the reference parser.
 * Fields are trimmed; empty lines skipped; a leading BOM and `\r` line ends dropped. `line` is the
 * physical line number (1-based) where the record starts. Broken quoting is reported through
 * `onError(line, message)` and never stops the stream.
 */
export class CsvLineReader {
  #rest = '';
  #line = 0;
  /** Lines of the quoted record being read; its length (joined) and quote count are kept as it
   * grows, so each line costs its own length, never the record's (review: an opening quote and
   * 65,000 empty lines took 21 s re-joining and re-counting the whole record at every line). */
  #quoted: string[] | null = null;
  #quotedLength = 0;
  #quotes = 0;
  #quotedLine = 0;
  #first = true;

  constructor(
    private readonly onRecord: (fields: string[], line: number) => void,
    private readonly onError: (line: number, message: string) => void,
  ) {}

  /** Feeds decoded text (any split). */
  push(text: string): void {
    if (this.#first && text.length > 0) { this.#first = false; if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); }
    let start = 0;
    if (this.#skipping) {
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      this.#skipping = false;
      start = nl + 1;
    }
    let s = start > 0 ? text.slice(start) : text;
    if (this.#rest.length > 0) s = this.#rest + s;
    start = 0;
    for (let nl = s.indexOf('\n', start); nl >= 0; nl = s.indexOf('\n', start)) {
      if (nl - start > MAX_LINE) this.#tooLong(); else this.#lineOf(s.slice(start, nl));
      start = nl + 1;
    }
    this.#rest = s.slice(start);
    if (this.#rest.length > MAX_LINE) { this.#tooLong(); this.#rest = ''; this.#skipping = true; }
  }

  #skipping = false;

  #tooLong(): void {
    this.#line++;
    this.onError(this.#line, `line longer than ${MAX_LINE} characters; skipped`);
  }

  /** End of input: the last line without a newline, and any unclosed quoted record. */
  end(): void {
    if (this.#rest.length > 0) { this.#lineOf(this.#rest); this.#rest = ''; }
    if (this.#quoted) { this.onError(this.#quotedLine, 'unclosed quote at the end of the input'); this.#quoted = null; }
  }

  #lineOf(raw: string): void {
    this.#line++;
    const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (this.#quoted) {
      this.#quoted.push(line);
      this.#quotedLength += 1 + line.length;
      this.#quotes += countQuotes(line);
      this.#tryQuoted();
      return;
    }
    if (line.indexOf('"') >= 0) {
      this.#quoted = [line];
      this.#quotedLength = line.length;
      this.#quotes = countQuotes(line);
      this.#quotedLine = this.#line;
      this.#tryQuoted();
      return;
    }
    if (line.trim().length === 0) return;
    const fields = line.split(',');
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const c0 = f.charCodeAt(0);
      const cn = f.charCodeAt(f.length - 1);
      if (c0 === 32 || c0 === 9 || cn === 32 || cn === 9) fields[i] = f.trim();
    }
    this.onRecord(fields, this.#line);
  }

  #tryQuoted(): void {
    if (this.#quotes % 2 === 1) {
      if (this.#quotedLength > MAX_QUOTED_RECORD) {
        this.onError(this.#quotedLine, `quoted field longer than ${MAX_QUOTED_RECORD} characters (lines ${this.#quotedLine}-${this.#line}); skipped`);
        this.#quoted = null;
      }
      return; // the quoted field goes on on the next line
    }
    if (this.#quotedLength > MAX_QUOTED_RECORD) {
      this.onError(this.#quotedLine, `record longer than ${MAX_QUOTED_RECORD} characters; skipped`);
      this.#quoted = null;
      return;
    }
    const text = this.#quoted!.join('\n');
    this.#quoted = null;
    let recs: string[][];
    try {
      recs = parseSync(text, { trim: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
    } catch (err) {
      this.onError(this.#quotedLine, (err as Error).message);
      return;
    }
    for (const r of recs) this.onRecord(r, this.#quotedLine);
  }
}

function countQuotes(line: string): number {
  let n = 0;
  for (let i = line.indexOf('"'); i >= 0; i = line.indexOf('"', i + 1)) n++;
  return n;
}
