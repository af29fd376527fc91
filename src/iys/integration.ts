import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { GatewayConfig } from '../config/schema.ts';
import type { ConsentStore } from '../mirror/consent-store.ts';
import { istanbulDate } from '../domain/turkish-time.ts';
import { IysClient } from './client.ts';
import { reconcileDay, type ReconcileReport } from './reconcile.ts';
import { DeadLetters } from './dead-letters.ts';
import { Outbox } from './outbox.ts';
import { SyncWorker } from './sync.ts';
import { Uploader } from './uploader.ts';

/**
 * Everything that connects the gateway to İYS: the durable outbox (always; without an İYS account
 * its items wait and their deadlines stay visible), and — when `iys` is configured — the client,
 * one pull SyncWorker per brand and the Uploader, each on its own timer.
 */
export class IysIntegration {
  readonly outbox: Outbox;
  /** İYS movements that could not be applied (pull and push), retried on every pull cycle. */
  readonly deadLetters: DeadLetters;
  readonly client: IysClient | null = null;
  readonly sync = new Map<number, SyncWorker>();
  readonly uploader: Uploader | null = null;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #config: GatewayConfig;
  readonly #store: ConsentStore;
  readonly #log: FastifyBaseLogger;
  readonly #now: () => number;

  constructor(opts: { config: GatewayConfig; store: ConsentStore; log: FastifyBaseLogger; onFresh: (atMs: number) => void; now?: () => number }) {
    const { config, store, log } = opts;
    this.#config = config;
    this.#store = store;
    this.#log = log;
    this.#now = opts.now ?? Date.now;
    this.outbox = new Outbox({ dir: join(config.dataDir, 'outbox'), warn: (msg) => log.warn(msg), ...(opts.now ? { now: opts.now } : {}) });
    this.deadLetters = new DeadLetters({ dir: join(config.dataDir, 'sync'), warn: (msg) => log.warn(msg), ...(opts.now ? { now: opts.now } : {}) });
    const iys = config.iys;
    if (!iys) return;
    let warnedAt = -Infinity;
    this.client = new IysClient({
      baseUrl: iys.baseUrl, iysCode: iys.iysCode, username: iys.username, password: iys.password,
      timeoutMs: iys.requestTimeoutMs, ...(opts.now ? { now: opts.now } : {}),
      // a warning past the bound, at most every 10 minutes while it lasts
      onClockSkew: (skewMs) => {
        if (Math.abs(skewMs) <= iys.clockSkewWarnMs) { warnedAt = -Infinity; return; }
        const t = this.#now();
        if (t - warnedAt < 600_000) return;
        warnedAt = t;
        log.warn({ clockSkewMs: Math.round(skewMs), boundMs: iys.clockSkewWarnMs }, 'the gateway clock and İYS disagree (İYS Date header): ONAY movements dated ahead of the gateway clock wait in the dead-letter store; check NTP');
      },
    });
    // The mirror is as fresh as its least fresh brand's last complete pull.
    const freshOf = () => {
      let min = Infinity;
      for (const w of this.sync.values()) min = Math.min(min, w.status().lastPullAt ?? 0);
      if (Number.isFinite(min) && min > 0) opts.onFresh(min);
    };
    this.#freshOf = freshOf;
    for (const brandCode of iys.brands) {
      this.sync.set(brandCode, new SyncWorker({ brandCode, client: this.client, store, log, deadLetters: this.deadLetters, onFresh: freshOf, ...(opts.now ? { now: opts.now } : {}) }));
    }
    this.uploader = new Uploader({
      outbox: this.outbox, client: this.client, store, log, pollAfterMs: iys.batchPollAfterMs, retryBaseMs: iys.uploadRetryBaseMs, ...(opts.now ? { now: opts.now } : {}),
    });
  }

  /** Opens the outbox and loads sync state (freshness resumes from the stored last pulls). */
  async open(): Promise<void> {
    await this.outbox.open(); // takes the data directory's LOCK first
    await this.deadLetters.open();
    for (const w of this.sync.values()) await w.load();
    this.#freshOf?.();
    const open = this.outbox.list((i) => i.state === 'pending' || i.state === 'submitted').length;
    if (!this.client && open > 0) {
      this.#log.warn({ open }, 'outbox items wait for İYS but no İYS account is configured (config key iys): they will not be registered and their deadlines run');
    }
  }

  #freshOf: (() => void) | null = null;

  /** Starts the pull and upload timers (first runs at once). */
  start(): void {
    const iys = this.#config.iys;
    if (!iys) return;
    const every = (ms: number, fn: () => Promise<void>) => {
      if (ms <= 0) return;
      void fn();
      const t = setInterval(() => { void fn(); }, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(iys.pullIntervalMs, () => this.pullAll());
    every(iys.uploadIntervalMs, () => this.uploader!.tick());
    if (iys.reconcileDaily) every(3_600_000, () => this.reconcileYesterday());
  }

  /** Last daily reconciliation report per brand (GET /v1/sync/status). */
  readonly reconciliations = new Map<number, ReconcileReport>();

  /**
   * Reconciles yesterday (Istanbul date) for every brand not reconciled yet: İYS's daily file and
   * its SHA-384 value against the mirror (reconcile.ts). Differences are logged as warnings and
   * kept for /v1/sync/status. Never throws; a day İYS has not finished is tried again next hour.
   */
  async reconcileYesterday(): Promise<void> {
    if (!this.client) return;
    const yesterday = istanbulDate(new Date(this.#now() - 86_400_000));
    for (const brandCode of this.sync.keys()) {
      const key = `reconcile.${brandCode}.last`;
      try {
        if ((await this.#store.getMeta(key)) === yesterday) continue;
        const r = await reconcileDay(this.client, this.#store, brandCode, yesterday);
        this.reconciliations.set(brandCode, r);
        if (r.status === 'not-ready') continue;
        await this.#store.setMeta(key, yesterday);
        const level = r.status === 'hash-mismatch' || r.differences.length > 0 || r.missingApplied > 0 ? 'warn' : 'info';
        this.#log[level]({ brandCode, reportDate: yesterday, status: r.status, rows: r.rows, missingApplied: r.missingApplied, differences: r.differences.length }, 'daily İYS reconciliation');
      } catch (err) {
        this.#log.warn({ err, brandCode }, 'daily İYS reconciliation failed; will retry');
      }
    }
  }

  /** One pull cycle for every brand. */
  async pullAll(): Promise<void> {
    await Promise.all([...this.sync.values()].map((w) => w.pull()));
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
    await this.outbox.close();
    await this.deadLetters.close();
  }
}
