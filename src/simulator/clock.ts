/**
 * The simulator's clock. Every rule that depends on time (token lifetimes, rate windows, batch
 * processing delay, the 60-minute pull lag, the 7-day windows, H162, H467) reads this clock, so
 * tests and demos move time through `/_sim/clock` instead of sleeping.
 */
export interface SimClock {
  /** Current simulated instant in epoch ms. */
  nowMs(): number;
  /** Current simulated instant. */
  now(): Date;
  /** Jumps to `at` (may go backwards). Keeps running unless frozen. */
  set(at: Date): void;
  /** Moves forward (or back, if negative) by `ms` milliseconds. */
  advance(ms: number): void;
  /** Freezes (true) or releases (false) the clock at its current instant. */
  freeze(frozen: boolean): void;
  readonly frozen: boolean;
}

/**
 * Creates a clock running at real speed from `startAt` (default: the real time).
 * @param opts.startAt initial simulated instant
 * @param opts.frozen  start frozen (time moves only through set/advance)
 * @param opts.realNow source of real time in ms (injectable for tests; default Date.now)
 */
export function createSimClock(opts: { startAt?: Date; frozen?: boolean; realNow?: () => number } = {}): SimClock {
  const realNow = opts.realNow ?? Date.now;
  let offset = opts.startAt ? opts.startAt.getTime() - realNow() : 0;
  let frozenAt: number | null = opts.frozen ? realNow() + offset : null;
  const nowMs = (): number => (frozenAt ?? realNow() + offset);
  return {
    nowMs,
    now: () => new Date(nowMs()),
    set(at) {
      if (frozenAt !== null) frozenAt = at.getTime();
      else offset = at.getTime() - realNow();
    },
    advance(ms) {
      if (frozenAt !== null) frozenAt += ms;
      else offset += ms;
    },
    freeze(frozen) {
      if (frozen && frozenAt === null) frozenAt = nowMs();
      if (!frozen && frozenAt !== null) {
        offset = frozenAt - realNow();
        frozenAt = null;
      }
    },
    get frozen() {
      return frozenAt !== null;
    },
  };
}
