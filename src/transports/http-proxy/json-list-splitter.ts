import { UnreadableRequest } from './types.ts';

/** Bounds of a JsonListSplitter (bytes). */
export interface SplitterLimits {
  /** Everything outside the list (the campaign's other fields): past it the body is refused. Default 1 MiB. */
  maxHeadBytes?: number;
  /** One list element (a `{phone, phrase, …}` entry): past it the body is refused. Default 64 KiB. */
  maxElementBytes?: number;
}

const MAX_KEY_BYTES = 256;

interface Frame { kind: 'obj' | 'arr'; key: string | null; expectKey: boolean }

/**
 * A streaming splitter for one JSON body holding a long list at a known key path (Verimor
 * `phone_list`, Netgsm `body.data.numbers`): fed the body in chunks of any size, it hands back
 * every element of the FIRST array found at `path` as its own bytes (whitespace around it
 * trimmed, in order) and keeps everything else — the "head" — as two byte runs: `prefix` (up to,
 * not including, the list's `[`) and `suffix` (after its `]`). `prefix + "[]" + suffix` is the
 * body without its list, small enough to parse whole; each element is parsed on its own. Memory
 * is bounded by the limits, never by the list's length.
 *
 * The splitter checks the list's own syntax (elements separated by single commas, no trailing
 * comma) and tracks strings and nesting everywhere; the rest of the JSON grammar is left to
 * `JSON.parse` of the head and of each element. A key path that names a non-array, or a body
 * without it, leaves the whole body in the head (`found` false).
 * @throws UnreadableRequest (from `push`/`end`) when a bound is passed or the list is malformed
 */
export class JsonListSplitter {
  readonly #path: readonly string[];
  readonly #maxHead: number;
  readonly #maxElement: number;
  readonly #onElement: (bytes: Buffer) => void;
  #stack: Frame[] = [];
  #inString = false;
  #escape = false;
  #keyBytes: number[] | null = null; // the key being read (object keys only)
  #keyTooLong = false;
  /** Depth (stack length) inside the target array, or -1 when not inside it. */
  #target = -1;
  #found = false;
  #done = false; // the target array was closed
  #head: Buffer[] = [];
  #headLen = 0;
  #prefix: Buffer | null = null;
  #element: Buffer[] = [];
  #elementLen = 0;
  /** Inside the target: 'value' (after `[` or `,`), 'in' (inside an element), 'sep' (after an element). */
  #listState: 'first' | 'value' | 'in' | 'sep' = 'first';
  #elementDepth = 0;
  /** Elements handed out. */
  count = 0;

  /**
   * @param path the key path of the list from the root object (`['phone_list']`)
   * @param onElement called with each element's bytes, in order (a view of the splitter's own
   *   copy of the chunk: it may be kept; it holds that chunk in memory while kept)
   */
  constructor(path: readonly string[], onElement: (bytes: Buffer) => void, limits: SplitterLimits = {}) {
    this.#path = path;
    this.#onElement = onElement;
    this.#maxHead = limits.maxHeadBytes ?? 1024 * 1024;
    this.#maxElement = limits.maxElementBytes ?? 64 * 1024;
  }

  /** True once the list was found at its path. */
  get found(): boolean { return this.#found; }

  /** Feeds the next bytes of the body. @throws UnreadableRequest */
  push(input: Buffer): void {
    // one copy per chunk (the caller may reuse its buffer): elements and head runs are views of it
    const chunk = Buffer.from(input);
    let runStart = 0; // start of the current run of head or element bytes in this chunk
    const n = chunk.length;
    const stack = this.#stack;
    let inString = this.#inString;
    let escape = this.#escape;
    try {
      for (let i = 0; i < n; i++) {
        let c = chunk[i]!;
        if (inString) {
          if (this.#keyBytes === null) {
            // a value string: skip to its end (or the next escape)
            while (!escape && c !== 0x22 && c !== 0x5c && i + 1 < n) c = chunk[++i]!;
            if (escape) { escape = false; continue; }
            if (c === 0x5c) { escape = true; continue; }
            if (c === 0x22) inString = false;
            continue;
          }
          if (escape) { escape = false; this.#key(c); continue; }
          if (c === 0x5c) { escape = true; this.#key(c); continue; }
          if (c === 0x22) { inString = false; this.#endKey(); continue; }
          this.#key(c);
          continue;
        }
        const depth = stack.length;
        const inTarget = this.#target !== -1 && !this.#done;
        if (inTarget && depth > this.#target) {
          // inside an element: only strings and nesting matter
          if (c === 0x22) { inString = true; continue; }
          if (c === 0x7b || c === 0x5b) { stack.push({ kind: c === 0x7b ? 'obj' : 'arr', key: null, expectKey: false }); continue; }
          if (c === 0x7d || c === 0x5d) {
            stack.pop();
            if (stack.length === this.#target) {
              // a nested element closed: it ends here (a separator must follow)
              this.#append(chunk, runStart, i + 1);
              this.#flushElement();
              this.#listState = 'sep';
              runStart = i + 1;
            }
          }
          continue;
        }
        if (inTarget && depth === this.#target) {
          // directly inside the list: element boundaries
          if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
            if (this.#listState === 'in') { this.#append(chunk, runStart, i); this.#flushElement(); this.#listState = 'sep'; }
            runStart = i + 1;
            continue;
          }
          if (c === 0x2c /* , */ || c === 0x5d /* ] */) {
            if (this.#listState === 'in') { this.#append(chunk, runStart, i); this.#flushElement(); this.#listState = 'sep'; }
            if (c === 0x2c) {
              if (this.#listState !== 'sep') throw new UnreadableRequest(`${this.#path.join('.')}: an element is missing before a comma`);
              this.#listState = 'value';
              runStart = i + 1;
              continue;
            }
            // the list closes
            if (this.#listState === 'value') throw new UnreadableRequest(`${this.#path.join('.')}: a comma before the end of the list`);
            stack.pop();
            this.#done = true;
            runStart = i + 1; // the suffix starts after the `]`
            continue;
          }
          if (this.#listState === 'sep') throw new UnreadableRequest(`${this.#path.join('.')}.${this.count}: elements are not separated by a comma`);
          if (this.#listState !== 'in') { this.#listState = 'in'; runStart = i; } // an element starts
          if (c === 0x22) inString = true;
          else if (c === 0x7b || c === 0x5b) stack.push({ kind: c === 0x7b ? 'obj' : 'arr', key: null, expectKey: false });
          continue;
        }
        // the head: keys are tracked to find the list's path
        const top = stack[depth - 1];
        switch (c) {
          case 0x22: // "
            inString = true;
            if (top?.kind === 'obj' && top.expectKey) { this.#keyBytes = []; this.#keyTooLong = false; }
            break;
          case 0x7b: // {
          case 0x5b: // [
            if (c === 0x5b && !this.#found && this.#atPath()) {
              // the list: the prefix ends before its `[`
              this.#found = true;
              this.#appendHead(chunk, runStart, i);
              this.#prefix = Buffer.concat(this.#head, this.#headLen);
              this.#head = [];
              this.#headLen = 0;
              stack.push({ kind: 'arr', key: null, expectKey: false });
              this.#target = stack.length;
              this.#listState = 'first';
              runStart = i + 1;
              break;
            }
            stack.push({ kind: c === 0x7b ? 'obj' : 'arr', key: null, expectKey: c === 0x7b });
            break;
          case 0x7d: // }
          case 0x5d: // ]
            stack.pop();
            break;
          case 0x2c: // ,
            if (top?.kind === 'obj') { top.expectKey = true; top.key = null; }
            break;
          default:
            break;
        }
      }
    } finally {
      this.#inString = inString;
      this.#escape = escape;
    }
    if (this.#target !== -1 && !this.#done && stack.length >= this.#target) {
      if (this.#listState === 'in') this.#append(chunk, runStart, n);
    } else this.#appendHead(chunk, runStart, n);
  }

  /**
   * Ends the body. @returns the head: `prefix` and `suffix` (null when the list was not found:
   * the whole body is then `suffix`). @throws UnreadableRequest when the list never closed
   */
  end(): { prefix: Buffer | null; suffix: Buffer } {
    if (this.#found && !this.#done) throw new UnreadableRequest(`${this.#path.join('.')}: the list does not end`);
    return { prefix: this.#prefix, suffix: Buffer.concat(this.#head, this.#headLen) };
  }

  /** The next value opens at the list's key path (objects all the way, keys equal). */
  #atPath(): boolean {
    if (this.#stack.length !== this.#path.length) return false;
    for (let d = 0; d < this.#path.length; d++) {
      const f = this.#stack[d]!;
      if (f.kind !== 'obj' || f.expectKey || f.key !== this.#path[d]) return false;
    }
    return true;
  }

  #key(c: number): void {
    if (this.#keyBytes!.length >= MAX_KEY_BYTES) { this.#keyTooLong = true; return; }
    this.#keyBytes!.push(c);
  }

  #endKey(): void {
    const top = this.#stack[this.#stack.length - 1]!;
    let key: string | null = null;
    if (!this.#keyTooLong) {
      try { key = JSON.parse('"' + Buffer.from(this.#keyBytes!).toString('utf8') + '"') as string; } catch { key = null; }
    }
    top.key = key ?? '\u0000';
    top.expectKey = false;
    this.#keyBytes = null;
  }

  #append(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.#elementLen += to - from;
    if (this.#elementLen > this.#maxElement) throw new UnreadableRequest(`${this.#path.join('.')}.${this.count} is longer than ${this.#maxElement} bytes`);
    this.#element.push(chunk.subarray(from, to));
  }

  #flushElement(): void {
    const bytes = this.#element.length === 1 ? this.#element[0]! : Buffer.concat(this.#element, this.#elementLen);
    this.#element = [];
    this.#elementLen = 0;
    this.count++;
    this.#onElement(bytes);
  }

  #appendHead(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.#headLen += to - from;
    if (this.#headLen + (this.#prefix?.length ?? 0) > this.#maxHead) throw new UnreadableRequest(`the body outside ${this.#path.join('.')} is longer than ${this.#maxHead} bytes`);
    this.#head.push(chunk.subarray(from, to));
  }
}
