import { existsSync, renameSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { acquireLock } from '../mirror/dir-lock.ts';
import type { RedisStore } from '../mirror/redis-store.ts';
import { fleetKeys } from './fleet-keys.ts';
import { FleetMeta, type SyncMeta } from './fleet-meta.ts';
import { LeaderLease } from './leader-lease.ts';
import type { OutboxStore } from './outbox-store.ts';
import { RedisOutbox } from './redis-outbox.ts';
import type { GatewayConfig } from '../config/schema.ts';
import type { ConsentStore } from '../mirror/consent-store.ts';
import { istanbulDate } from '../domain/turkish-time.ts';
import { IysClient } from './client.ts';
import { reconcileDay, type ReconcileReport } from './reconcile.ts';
import { DeadLetters } from './dead-letters.ts';
import { Outbox } from './outbox.ts';
import { SyncWorker } from './sync.ts';
import { Uploader } from './uploader.ts';
import { FleetRateBudget, RedisSharedToken } from './fleet-iys.ts';
import { TokenBroker } from './token-broker.ts';
import { FileUploadJobs, RedisUploadJobs, UploadRunner, type UploadJobStore } from './upload-jobs.ts';

/**
 * Everything that connects the gateway to İYS: the durable outbox (always; without an İYS account
 * its items wait and their deadlines stay visible), and — when `iys` is configured — the client,
 * one pull SyncWorker per brand and the Uploader, each on its own timer.
 *
 * On Redis (a fleet, issue 17) the outbox is the shared RedisOutbox, and with `iys` the İYS work
 * (pull, upload, batch polls, daily reconciliation, retention) runs only on the holder of the
 * LeaderLease; every write it makes to the shared state (outbox updates, cursors) is fenced by the
 * lease. Followers read the leader's sync state on their pull timer (status, mirror freshness).
 */
export class IysIntegration {
  readonly outbox: OutboxStore;
  /** The İYS-work lease (Redis with `iys` only). */
  readonly lease: LeaderLease | null = null;
  /** İYS movements that could not be applied (pull and push), retried on every pull cycle. */
  readonly deadLetters: DeadLetters;
  readonly client: IysClient | null = null;
  /** The client of the timed İYS work (pull, upload, reconciliation): gated by the lease in a fleet, else `client`. */
  readonly workClient: IysClient | null = null;
  readonly sync = new Map<number, SyncWorker>();
  readonly uploader: Uploader | null = null;
  /** Upload jobs (POST /v1/iys/uploads): files in `<dataDir>/uploads`, or Redis in a fleet (found from any instance). */
  readonly uploads: UploadJobStore;
  /** Runs upload jobs (with `iys`): here at once on one gateway; on the leader in a fleet, which resumes a dead leader's jobs. */
  readonly uploadRunner: UploadRunner | null = null;
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
    const iys = config.iys;
    let meta: SyncMeta | undefined;
    if (store.kind === 'redis') {
      const rs = store as RedisStore;
      const keys = fleetKeys(rs.keyPrefix);
      if (iys) {
        this.lease = new LeaderLease({
          client: rs.redis, keys, leaseMs: iys.leaseMs, warn: (msg, err) => log.warn({ err }, msg),
          onChange: (leader) => {
            log.info({ instanceId: this.lease!.instanceId, fence: this.lease!.fence }, leader ? 'this instance now leads İYS work (lease acquired)' : 'this instance no longer leads İYS work');
            if (leader) void this.#leaderStarted();
          },
        });
      }
      const token = () => this.lease?.token() ?? null;
      this.outbox = new RedisOutbox({ store: rs, keys, token, ...(opts.now ? { now: opts.now } : {}) });
      meta = new FleetMeta({ client: rs.redis, keys, token, store: rs });
      this.uploads = new RedisUploadJobs({ client: rs.redis, keys, maxInputBytes: config.redis.uploadMaxBytes });
    } else {
      this.uploads = new FileUploadJobs(join(config.dataDir, 'uploads'));
      this.outbox = new Outbox({ dir: join(config.dataDir, 'outbox'), warn: (msg) => log.warn(msg), ...(opts.now ? { now: opts.now } : {}) });
    }
    this.#meta = meta ?? store;
    // a fleet's dead letters are shared (Redis), so a dead instance's are not lost with its disk
    const rsd = store.kind === 'redis' ? store as RedisStore : null;
    this.deadLetters = new DeadLetters({
      dir: join(config.dataDir, 'sync'), warn: (msg) => log.warn(msg), ...(opts.now ? { now: opts.now } : {}),
      ...(rsd ? { redis: { client: rsd.redis, key: fleetKeys(rsd.keyPrefix).deadLetters } } : {}),
    });
    if (!iys) return;
    const canSend = this.lease ? () => this.lease!.isLeader() : () => true;
    let warnedAt = -Infinity;
    const clientOpts: ConstructorParameters<typeof IysClient>[0] = {
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
    };
    // a fleet: one token per credentials and one rate budget for every İYS call of every instance
    // (the timed work on the leader and the routes' calls on any instance), counted in Redis
    if (store.kind === 'redis') {
      const rs = store as RedisStore;
      const keys = fleetKeys(rs.keyPrefix);
      const budget = new FleetRateBudget({ client: rs.redis, keys });
      clientOpts.budget = budget;
      clientOpts.broker = new TokenBroker({
        baseUrl: iys.baseUrl, username: iys.username, password: iys.password, budget, timeoutMs: iys.requestTimeoutMs,
        shared: new RedisSharedToken({ client: rs.redis, keys, username: iys.username, ...(opts.now ? { now: opts.now } : {}) }),
        ...(opts.now ? { now: opts.now } : {}),
      });
    }
    // routes (bulk uploads, push registration, an admin reconciliation) call İYS from the instance
    // they reach; the timed İYS work goes through a client gated by the lease (same process-wide
    // token broker and rate budget), so a leader paused past its lease sends nothing on resume
    this.client = new IysClient(clientOpts);
    this.workClient = this.lease ? new IysClient({ ...clientOpts, canSend }) : this.client;
    const work = this.workClient;
    // The mirror is as fresh as its least fresh brand's last complete pull.
    const freshOf = () => {
      let min = Infinity;
      for (const w of this.sync.values()) min = Math.min(min, w.status().lastPullAt ?? 0);
      if (Number.isFinite(min) && min > 0) opts.onFresh(min);
    };
    this.#freshOf = freshOf;
    for (const brandCode of iys.brands) {
      this.sync.set(brandCode, new SyncWorker({
        brandCode, client: work, store, log, deadLetters: this.deadLetters, onFresh: freshOf, canSend, ...(meta ? { meta } : {}), ...(opts.now ? { now: opts.now } : {}),
      }));
    }
    const outbox = this.outbox;
    this.uploader = new Uploader({
      outbox, client: work, store, log, pollAfterMs: iys.batchPollAfterMs, retryBaseMs: iys.uploadRetryBaseMs, canSend,
      ...(this.lease ? { claimMs: iys.leaseMs } : {}),
      onReclaimed: async (n) => {
        this.reclaimedHere += n;
        if (outbox instanceof RedisOutbox) await outbox.countReclaimed(n);
      },
      ...(opts.now ? { now: opts.now } : {}),
    });
    const lease = this.lease;
    this.uploadRunner = new UploadRunner({
      jobs: this.uploads, client: work, store, log, pollEveryMs: iys.batchPollAfterMs,
      instanceId: lease?.instanceId ?? `local:${process.pid}`,
      token: lease ? () => lease.token() : () => '', canRun: canSend, ...(opts.now ? { now: opts.now } : {}),
    });
  }

  /** Outbox items this process reclaimed from an instance that did not record their outcome. */
  reclaimedHere = 0;
  readonly #meta: SyncMeta;
  #unlockSync: (() => void) | null = null;

  /** A new leader reads the sync state its predecessor left before its first pull. */
  async #leaderStarted(): Promise<void> {
    for (const w of this.sync.values()) await w.load().catch(() => {});
    await this.uploadRunner?.resumeAll();
  }

  /**
   * Opens the outbox and loads sync state (freshness resumes from the stored last pulls). On Redis,
   * open items of a file outbox left in `<dataDir>/outbox` (an instance that ran before the fleet
   * outbox) are moved into the shared one, and the file renamed `outbox.log.moved-to-redis`.
   */
  async open(): Promise<void> {
    if (this.outbox instanceof RedisOutbox) {
      // the data directory holds only scratch: its LOCK keeps one gateway per directory
      mkdirSync(join(this.#config.dataDir, 'sync'), { recursive: true });
      this.#unlockSync = acquireLock(join(this.#config.dataDir, 'sync', 'LOCK'));
      await this.#moveFileOutbox(this.outbox);
    }
    await this.outbox.open(); // the file outbox takes the data directory's LOCK first
    await this.deadLetters.open();
    for (const w of this.sync.values()) await w.load();
    this.#freshOf?.();
    const open = (await this.outbox.due(Number.MAX_SAFE_INTEGER)).length;
    if (!this.client && open > 0) {
      this.#log.warn({ open }, 'outbox items wait for İYS but no İYS account is configured (config key iys): they will not be registered and their deadlines run');
    }
  }

  async #moveFileOutbox(target: RedisOutbox): Promise<void> {
    const dir = join(this.#config.dataDir, 'outbox');
    const path = join(dir, 'outbox.log');
    if (!existsSync(path)) return;
    const file = new Outbox({ dir, warn: (msg) => this.#log.warn(msg) });
    await file.open();
    try {
      const open = await file.due(Number.MAX_SAFE_INTEGER);
      await target.importItems(open);
      this.#log.warn({ items: open.length, from: path }, 'open items of this data directory\'s file outbox moved into the shared Redis outbox');
    } finally {
      await file.close();
    }
    renameSync(path, `${path}.moved-to-redis`);
  }

  #freshOf: (() => void) | null = null;

  /**
   * Starts the pull and upload timers (first runs at once). In a fleet also the lease; the timers
   * then run the work on the leader only, and a follower's pull timer reloads the leader's sync
   * state (cursors, last pull: status and mirror freshness).
   */
  start(): void {
    const iys = this.#config.iys;
    if (!iys) return;
    const lease = this.lease;
    lease?.start();
    const leading = (fn: () => Promise<void>, follow?: () => Promise<void>) => async () => {
      if (!lease || lease.isLeader()) await fn();
      else if (follow) await follow();
    };
    const every = (ms: number, fn: () => Promise<void>) => {
      if (ms <= 0) return;
      void fn();
      const t = setInterval(() => { void fn(); }, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(iys.pullIntervalMs, () => this.timed('pull'));
    every(iys.uploadIntervalMs, () => this.timed('upload'));
    if (!lease) void this.uploadRunner!.resumeAll();
    if (iys.reconcileDaily) every(3_600_000, leading(() => this.reconcileYesterday()));
    if (this.outbox instanceof RedisOutbox) {
      const ob = this.outbox;
      every(3_600_000, leading(() => ob.purge().then(() => {}, (err: unknown) => { this.#log.warn({ err }, 'outbox retention pass failed'); })));
    }
  }

  /**
   * One run of a timer of {@link start} (tests drive these with a simulated clock): `pull` — the
   * leader pulls both feeds of every brand, a follower reads the leader's sync state; `upload` —
   * the leader uploads due outbox items and (in a fleet) takes up running upload jobs, so a job
   * whose leader died is resumed by the next one within `iys.uploadIntervalMs` of its lease.
   * Followers send İYS nothing. Never throws.
   */
  async timed(kind: 'pull' | 'upload'): Promise<void> {
    const lease = this.lease;
    const leads = !lease || lease.isLeader();
    if (kind === 'pull') { await (leads ? this.pullAll() : this.#follow()); return; }
    if (!leads || !this.uploader) return;
    await this.uploader.tick();
    if (lease) await this.uploadRunner?.resumeAll();
  }

  /** A follower's pull timer: the leader's cursors and last pull, and the freshness they prove. Never throws. */
  async #follow(): Promise<void> {
    try {
      await this.deadLetters.refresh();
      for (const w of this.sync.values()) await w.load();
      this.#freshOf?.();
    } catch (err) {
      this.#log.warn({ err }, 'reading the fleet\'s sync state failed; will retry');
    }
  }

  /** Who leads İYS work (GET /v1/sync/status): null without a lease (one instance does it all). */
  async leader(): Promise<{ instanceId: string | null; fence: number | null; ttlMs: number | null; self: boolean; since: string | null; thisInstance: string; leaseMs: number; reclaimedItems: number | null } | null> {
    const lease = this.lease;
    if (!lease) return null;
    const h = await lease.holder().catch(() => null);
    const reclaimed = this.outbox instanceof RedisOutbox ? await this.outbox.reclaimed().catch(() => null) : null;
    const self = lease.isLeader() && h?.instanceId === lease.instanceId;
    return {
      instanceId: h?.instanceId ?? null, fence: h?.fence ?? null, ttlMs: h?.ttlMs ?? null, self,
      // when this instance took the lease (known to the holder only)
      since: self && lease.leaderSince !== null ? new Date(lease.leaderSince).toISOString() : null,
      thisInstance: lease.instanceId, leaseMs: lease.leaseMs,
      reclaimedItems: reclaimed,
    };
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
        if ((await this.#meta.getMeta(key)) === yesterday) continue;
        const r = await reconcileDay(this.workClient!, this.#store, brandCode, yesterday);
        this.reconciliations.set(brandCode, r);
        if (r.status === 'not-ready') continue;
        await this.#meta.setMeta(key, yesterday);
        const level = r.status === 'hash-mismatch' || r.differences.length > 0 || r.missingApplied > 0 ? 'warn' : 'info';
        this.#log[level]({ brandCode, reportDate: yesterday, status: r.status, rows: r.rows, missingApplied: r.missingApplied, differences: r.differences.length }, 'daily İYS reconciliation');
      } catch (err) {
        this.#log.warn({ err, brandCode }, 'daily İYS reconciliation failed; will retry');
      }
    }
  }

  /** One pull cycle for every brand. */
  async pullAll(): Promise<void> {
    // a fleet: letters other instances recorded (push deliveries, a former leader) are retried too
    await this.deadLetters.refresh().catch((err: unknown) => { this.#log.warn({ err }, 'reading the fleet\'s dead letters failed; will retry'); });
    await Promise.all([...this.sync.values()].map((w) => w.pull()));
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
    await this.lease?.stop(); // a clean shutdown hands the lease over at once
    await this.outbox.close();
    await this.deadLetters.close();
    this.#unlockSync?.();
    this.#unlockSync = null;
  }
}
