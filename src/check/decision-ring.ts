import type { Decision, Reason } from '../domain/types.ts';

/** One series of a {@link DecisionRing} snapshot: per-second counts, oldest first. */
export interface RingSeries { brandCode: number; decision: Decision; reason: Reason; entrance: string; counts: number[]; total: number }

/** What {@link DecisionRing.snapshot} returns. */
export interface RingSnapshot {
  /** Epoch second of the first count of every series (`counts[0]`). */
  fromSecond: number;
  /** Number of seconds covered (the length of every `counts`). */
  seconds: number;
  series: RingSeries[];
}

interface Series { brandCode: number; decision: Decision; reason: Reason; entrance: string; counts: Uint32Array }

/**
 * Decisions per second over the last `windowSeconds` (default 3600), in memory only (the operator
 * console's Decisions page; lost at restart, which is fine for a live view). One series per
 * (brandCode, decision, reason, entrance); at most `maxSeries` series (default 512): past that,
 * decisions count under brand 0, entrance `other` so that a flood of brands cannot grow memory
 * (each series costs `4 × windowSeconds` bytes, 14 KiB for an hour).
 *
 * The hot path ({@link record}) is a map lookup, a clock read and an array increment; a slot is
 * cleared lazily when its second comes round again (`#stamp` holds the second each slot counts).
 */
export class DecisionRing {
  readonly #window: number;
  readonly #maxSeries: number;
  readonly #now: () => number;
  readonly #series = new Map<string, Series>();
  readonly #list: Series[] = [];
  /** The epoch second each slot currently counts (-1: never used). */
  readonly #stamp: Float64Array;
  /** The series of the previous call: a run of alike decisions skips building the map key. */
  #last: Series | null = null;

  /**
   * @param opts.windowSeconds seconds kept (default 3600)
   * @param opts.maxSeries series kept before folding into brand 0 / `other` (default 512)
   * @param opts.now clock in epoch ms (tests)
   */
  constructor(opts: { windowSeconds?: number; maxSeries?: number; now?: () => number } = {}) {
    this.#window = opts.windowSeconds ?? 3600;
    this.#maxSeries = opts.maxSeries ?? 512;
    this.#now = opts.now ?? Date.now;
    this.#stamp = new Float64Array(this.#window).fill(-1);
  }

  /** Counts `n` decisions made now. `entrance` is a door's constant name (`check`, `proxy`, …): bounded. */
  record(brandCode: number, entrance: string, decision: Decision, reason: Reason, n = 1): void {
    const sec = Math.floor(this.#now() / 1000);
    const slot = sec % this.#window;
    if (this.#stamp[slot] !== sec) {
      for (const s of this.#list) s.counts[slot] = 0;
      this.#stamp[slot] = sec;
    }
    const last = this.#last;
    if (last !== null && last.brandCode === brandCode && last.reason === reason && last.decision === decision && last.entrance === entrance) {
      last.counts[slot]! += n;
      return;
    }
    const k = `${brandCode}\u0000${entrance}\u0000${decision}\u0000${reason}`;
    let s = this.#series.get(k);
    if (s === undefined) {
      if (this.#list.length >= this.#maxSeries && (brandCode !== 0 || entrance !== 'other')) { this.record(0, 'other', decision, reason, n); return; }
      s = { brandCode, decision, reason, entrance, counts: new Uint32Array(this.#window) };
      this.#series.set(k, s);
      this.#list.push(s);
    }
    s.counts[slot]! += n;
    this.#last = s;
  }

  /**
   * The last `seconds` seconds (≤ the window) up to and including the current one, of the series
   * `keep` accepts (brand scoping), series without any decision in that span left out.
   */
  snapshot(seconds: number = this.#window, keep: (brandCode: number) => boolean = () => true): RingSnapshot {
    const span = Math.max(1, Math.min(this.#window, Math.floor(seconds)));
    const nowSec = Math.floor(this.#now() / 1000);
    const fromSecond = nowSec - span + 1;
    const series: RingSeries[] = [];
    for (const s of this.#list) {
      if (!keep(s.brandCode)) continue;
      const counts = new Array<number>(span);
      let total = 0;
      for (let i = 0; i < span; i++) {
        const sec = fromSecond + i;
        const slot = ((sec % this.#window) + this.#window) % this.#window;
        const c = this.#stamp[slot] === sec ? s.counts[slot]! : 0;
        counts[i] = c;
        total += c;
      }
      if (total > 0) series.push({ brandCode: s.brandCode, decision: s.decision, reason: s.reason, entrance: s.entrance, counts, total });
    }
    return { fromSecond, seconds: span, series };
  }
}
