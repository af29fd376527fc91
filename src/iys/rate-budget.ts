/**
 * A rate budget that keeps every İYS caller sharing it under İYS's limits (iys-reference.md
 * §2.11): requests per second per IP (İYS: 10, H124), single status per hour (1000, H086),
 * history per hour (100, H089) and token requests per hour (100, H084). One budget per source IP
 * (i.e. per process talking to İYS); pass the same instance to every client and token broker.
 *
 * Per-second slots are granted FIFO over a sliding window (`windowMs`, default 1100 ms), so no
 * 1000 ms span — and therefore no second as İYS counts it — ever holds more than `perSecond`
 * grants. Callers acquire a slot immediately before sending (after any token wait). Hourly
 * budgets do not wait an hour: they throw GW_ERR_IYS_BUDGET_EXHAUSTED and the caller decides.
 */
import { gatewayError } from '../errors.ts';

/** What a request counts against besides the per-second limit. */
export type BudgetKind = 'default' | 'status' | 'history' | 'token';

export interface RateBudgetOptions {
  /** Requests per sliding second; default 9 (İYS allows 10; one spare for clock skew). 0 = unlimited. */
  perSecond?: number;
  /**
   * Length of the sliding window in ms; default 1100: 100 ms longer than İYS's second, so a
   * request that reaches İYS up to 100 ms later than it was granted still lands in a
   * different İYS second than the next wave.
   */
  windowMs?: number;
  /** Single-status queries per sliding hour; default 950 (İYS: 1000). */
  statusPerHour?: number;
  /** History queries per sliding hour; default 95 (İYS: 100). */
  historyPerHour?: number;
  /** Token requests per sliding hour; default 90 (İYS: 100, then a one-hour penalty). */
  tokenPerHour?: number;
  /** Clock in epoch ms (default Date.now). */
  now?: () => number;
  /** Waits `ms` milliseconds (default setTimeout); injectable for fake-time tests. */
  sleep?: (ms: number) => Promise<void>;
}

const HOUR = 3_600_000;

export class RateBudget {
  readonly perSecond: number;
  readonly windowMs: number;
  private readonly hourly: Record<Exclude<BudgetKind, 'default'>, number>;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly stamps: number[] = [];
  private readonly hourStamps: Record<Exclude<BudgetKind, 'default'>, number[]> = { status: [], history: [], token: [] };
  private readonly queue: (() => void)[] = [];
  private pausedUntil = 0;
  private waking = false;
  /** Total per-second slots granted (observability). */
  granted = 0;

  constructor(opts: RateBudgetOptions = {}) {
    this.perSecond = opts.perSecond ?? 9;
    this.windowMs = opts.windowMs ?? 1100;
    this.hourly = { status: opts.statusPerHour ?? 950, history: opts.historyPerHour ?? 95, token: opts.tokenPerHour ?? 90 };
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * Waits for a slot, then counts one request of `kind`.
   * @throws GW_ERR_IYS_BUDGET_EXHAUSTED (429) when the hourly budget of `kind` is spent; carries
   *   `retryAt` (epoch ms)
   */
  async acquire(kind: BudgetKind = 'default'): Promise<void> {
    if (kind !== 'default') this.takeHourly(kind);
    if (this.perSecond === 0 && this.now() >= this.pausedUntil) return;
    await new Promise<void>((resolve) => {
      this.queue.push(resolve);
      this.pump();
    });
  }

  /** Hourly requests of `kind` still available now. */
  remaining(kind: Exclude<BudgetKind, 'default'>): number {
    const now = this.now();
    const s = this.hourStamps[kind];
    while (s.length && s[0]! <= now - HOUR) s.shift();
    return Math.max(0, this.hourly[kind] - s.length);
  }

  /** Stops granting slots for `ms` (after İYS answered 429 H124). */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  private takeHourly(kind: Exclude<BudgetKind, 'default'>): void {
    const limit = this.hourly[kind];
    if (limit === 0) return;
    if (this.remaining(kind) === 0) {
      const retryAt = this.hourStamps[kind][0]! + HOUR;
      const err = gatewayError('GW_ERR_IYS_BUDGET_EXHAUSTED', [kind, new Date(retryAt).toISOString()]);
      throw Object.assign(err, { retryAt });
    }
    this.hourStamps[kind].push(this.now());
  }

  private pump(): void {
    if (this.waking) return;
    while (this.queue.length > 0) {
      const now = this.now();
      while (this.stamps.length && this.stamps[0]! <= now - this.windowMs) this.stamps.shift();
      let waitMs = 0;
      if (now < this.pausedUntil) waitMs = this.pausedUntil - now;
      else if (this.perSecond > 0 && this.stamps.length >= this.perSecond) waitMs = this.stamps[0]! + this.windowMs - now;
      if (waitMs > 0) {
        this.waking = true;
        void this.sleep(waitMs).then(() => {
          this.waking = false;
          this.pump();
        });
        return;
      }
      this.stamps.push(now);
      this.granted++;
      this.queue.shift()!();
    }
  }
}

const shared = new Map<string, RateBudget>();

/**
 * The process-wide budget for one İYS host (İYS counts per source IP, i.e. per process here),
 * created with default limits on first use. Clients and brokers built without an explicit
 * budget use it, so concurrent callers never add up past İYS's limits.
 */
export function sharedRateBudget(host: string): RateBudget {
  let b = shared.get(host);
  if (!b) {
    b = new RateBudget();
    shared.set(host, b);
  }
  return b;
}
