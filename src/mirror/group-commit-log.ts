import { truncateSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * An append-only file with group commit: `append()` resolves only after the bytes are written
 * and `fdatasync`ed, so anything acknowledged survives `kill -9` and power loss (on a disk that
 * honours fsync). Appends issued while a flush is under way are written together by the next
 * flush, so many concurrent writers cost one fsync, not one each.
 */
export class GroupCommitLog {
  #fh: FileHandle | null = null;
  #pending: string[] = [];
  #waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  #flushing: Promise<void> | null = null;
  #bytes = 0;

  /** @param path file to append to (created when missing). */
  constructor(readonly path: string) {}

  /** Opens the file for appending; its current size counts towards `bytes`. */
  async open(): Promise<void> {
    this.#fh = await open(this.path, 'a');
    this.#bytes = (await this.#fh.stat()).size;
  }

  /** Bytes in the file, including appends not yet flushed. */
  get bytes(): number { return this.#bytes; }

  /**
   * Appends `text` (whole lines, each ending in `\n`). Resolves once durable.
   * @throws the underlying fs error (ENOSPC, EIO, …) when the write or fsync fails.
   */
  append(text: string): Promise<void> {
    if (!this.#fh) return Promise.reject(new Error(`log ${this.path} is not open`));
    this.#pending.push(text);
    this.#bytes += Buffer.byteLength(text);
    const p = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#flushing) this.#flushing = this.#flushLoop();
    return p;
  }

  async #flushLoop(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const text = this.#pending.join('');
        const waiters = this.#waiters;
        this.#pending = [];
        this.#waiters = [];
        try {
          await this.#fh!.appendFile(text);
          await this.#fh!.datasync();
          for (const w of waiters) w.resolve();
        } catch (err) {
          for (const w of waiters) w.reject(err);
        }
      }
    } finally {
      this.#flushing = null;
    }
  }

  /** Waits for pending appends, then closes. Idempotent. */
  async close(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    const fh = this.#fh;
    this.#fh = null;
    if (fh) await fh.close();
  }

  /** True while appends are pending or being written. */
  get busy(): boolean { return this.#flushing !== null; }

  /** Resolves when nothing is pending nor being written (check `busy` again after the await). */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  /**
   * Empties the file synchronously. Only safe when `idle()` just resolved and the caller made what
   * the file held redundant in the same synchronous step (a snapshot): nothing can be in flight.
   */
  truncateIdleSync(): void {
    if (!this.#fh || this.#flushing) throw new Error(`log ${this.path} is not idle`);
    truncateSync(this.path, 0);
    this.#bytes = 0;
  }
}
