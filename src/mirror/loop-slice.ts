/**
 * Cooperative time slicing for bulk work on the request loop (issue 12 item 6: a long import kept
 * the event loop 160–240 ms late and pushed single checks to hundreds of ms). Bulk code (CSV
 * parsing and validation of imports, uploads and scrubs, applying an import's movements) does a
 * bounded piece of work, asks `due`, and when the slice's budget is spent awaits `yield()`: the
 * event loop then runs pending I/O (waiting checks are parsed, looked up and answered) before the
 * bulk work goes on. A check thus waits at most about one slice behind an import.
 *
 * Usage:
 * ```ts
 * const slice = new LoopSlice();            // 2 ms budget
 * for (const part of parts) { work(part); if (slice.due) await slice.yield(); }
 * // or, feeding a text splitter in bounded pieces:
 * await feedSliced(text, (p) => reader.push(p), slice);
 * ```
 */
export class LoopSlice {
  readonly budgetMs: number;
  #start = performance.now();
  /** Times this slice yielded (benchmarks, tests). */
  yields = 0;

  /** @param budgetMs work per slice in ms before `due` turns true. Default 2. */
  constructor(budgetMs = 2) {
    this.budgetMs = budgetMs;
  }

  /** True once the current slice has run for `budgetMs` (one clock read). */
  get due(): boolean {
    return performance.now() - this.#start >= this.budgetMs;
  }

  /** Lets the event loop run pending I/O (setImmediate: after the poll phase), then starts a new slice. */
  async yield(): Promise<void> {
    this.yields++;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#start = performance.now();
  }

  /** Yields when the slice is spent; a resolved no-op otherwise. */
  async maybeYield(): Promise<void> {
    if (this.due) await this.yield();
  }
}

/**
 * Feeds `text` to `push` in pieces of at most `pieceChars` characters, yielding through `slice`
 * whenever its budget is spent. The pieces split the text anywhere: `push` must accept any split
 * (CsvLineReader.push does; so does a byte-record splitter fed strings).
 */
export async function feedSliced(text: string, push: (piece: string) => void, slice: LoopSlice, pieceChars = 8192): Promise<void> {
  if (text.length <= pieceChars) {
    push(text);
    if (slice.due) await slice.yield();
    return;
  }
  for (let i = 0; i < text.length; i += pieceChars) {
    push(text.slice(i, i + pieceChars));
    if (slice.due) await slice.yield();
  }
}
