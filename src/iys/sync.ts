import type { FastifyBaseLogger } from 'fastify';
import type { ConsentStore } from '../mirror/consent-store.ts';
import type { IysClient } from './client.ts';
import { PULL_MAX_LIMIT, PULL_WINDOW_MS, isCursorStale } from './client.ts';
import type { Movement } from '../domain/types.ts';
import type { DeadLetters } from './dead-letters.ts';
import type { SyncMeta } from './fleet-meta.ts';
import { readIysMovement, type RawIysMovement } from './iys-movement.ts';

/** Sync state of one brand (GET /v1/sync/status, `iys-gate sync status`). */
export interface BrandSyncStatus {
  brandCode: number;
  cursors: { HS: string | null; IYS: string | null };
  /** Epoch ms of the last pull cycle that reached the end of both feeds; null = never. */
  lastPullAt: number | null;
  /** Epoch ms of the last push delivery applied; null = never. */
  lastPushAt: number | null;
  /** Movements applied by pull since start. */
  pulledMovements: number;
  /** Items the feed carried that could not be applied (dead-lettered) since start. */
  badMovements: number;
  /** Dead letters of this brand still waiting to be applied (retried on every pull cycle). */
  deadLetters: number;
  /** Dead letters of this brand applied by a retry since start. */
  deadLettersRecovered: number;
  /** True when the last complete pull is older than the feed's 7-day window (minus a margin): a full resync is needed. */
  gap: boolean;
  lastError: { code: string; message: string; at: number } | null;
}

export interface SyncWorkerOptions {
  brandCode: number;
  client: IysClient;
  store: ConsentStore;
  log: FastifyBaseLogger;
  /** Durable store of movements that could not be applied; a page's cursor moves only once its refused items are in it. */
  deadLetters: DeadLetters;
  /** Called after a complete pull cycle with its epoch ms (the mirror is fresh as of then). */
  onFresh?: (atMs: number) => void;
  /** Where cursors and times are kept (default the store's metadata; a fleet: FleetMeta, fenced). */
  meta?: SyncMeta;
  /** Whether this instance may send to İYS now (the fleet's lease), checked before every page request. Default: always. */
  canSend?: () => boolean;
  now?: () => number;
}

const metaKey = (brand: number, what: string) => `sync.${brand}.${what}`;

/**
 * Pull sync of one brand: reads the changes feed for `source=HS` and `source=IYS` from the stored
 * `after` cursors, applies each page in order, then stores the page's cursor. The cursor is
 * written only after the page's movements are durable, and applying is idempotent (the same
 * movement twice is a `duplicate`), so a crash at any point neither loses nor double-applies a
 * movement: at worst one page is read again and changes nothing (field case C13).
 *
 * Gap: when the last complete pull is older than the feed's 7-day window, movements may have been
 * lost; `status().gap` turns true, readiness reports it, and the recovery path is a full load from
 * İYS's daily files or an import (README "Sync").
 */
export class SyncWorker {
  readonly brandCode: number;
  readonly #o: SyncWorkerOptions;
  #running: Promise<void> | null = null;
  readonly #status: BrandSyncStatus;

  constructor(opts: SyncWorkerOptions) {
    this.#o = opts;
    this.brandCode = opts.brandCode;
    this.#status = {
      brandCode: opts.brandCode, cursors: { HS: null, IYS: null }, lastPullAt: null, lastPushAt: null,
      pulledMovements: 0, badMovements: 0, deadLetters: 0, deadLettersRecovered: 0, gap: false, lastError: null,
    };
  }

  get #meta(): SyncMeta { return this.#o.meta ?? this.#o.store; }

  /** Loads cursors and times from the metadata (a follower calls it to show the leader's state). */
  async load(): Promise<void> {
    const s = this.#meta;
    this.#status.cursors.HS = await s.getMeta(metaKey(this.brandCode, 'HS.after'));
    this.#status.cursors.IYS = await s.getMeta(metaKey(this.brandCode, 'IYS.after'));
    const last = await s.getMeta(metaKey(this.brandCode, 'lastPullAt'));
    this.#status.lastPullAt = last ? Number(last) : null;
    const push = await s.getMeta(metaKey(this.brandCode, 'lastPushAt'));
    this.#status.lastPushAt = push ? Number(push) : null;
    this.#checkGap();
  }

  status(): BrandSyncStatus {
    this.#checkGap();
    this.#status.deadLetters = this.#o.deadLetters.openLetters(this.brandCode).length;
    return structuredClone(this.#status);
  }

  /** One complete cycle over both sources; concurrent calls share the running cycle. Never throws. */
  pull(): Promise<void> {
    if (!this.#running) this.#running = this.#pull().finally(() => { this.#running = null; });
    return this.#running;
  }

  /** Records a push delivery (for status and freshness). */
  async pushed(atMs: number): Promise<void> {
    this.#status.lastPushAt = atMs;
    // any instance receives pushes: the store's own metadata, not the leader's fenced state
    await this.#o.store.setMeta(metaKey(this.brandCode, 'lastPushAt'), String(atMs));
  }

  async #pull(): Promise<void> {
    const now = (this.#o.now ?? Date.now)();
    try {
      await this.retryDeadLetters();
      for (const source of ['HS', 'IYS'] as const) await this.#drain(source);
      this.#status.lastPullAt = now;
      this.#status.lastError = null;
      await this.#meta.setMeta(metaKey(this.brandCode, 'lastPullAt'), String(now));
      this.#checkGap();
      if (!this.#status.gap) this.#o.onFresh?.(now);
    } catch (err) {
      const e = err as Error & { code?: string };
      this.#status.lastError = { code: e.code ?? 'ERROR', message: e.message, at: now };
      this.#o.log.warn({ err, brandCode: this.brandCode }, 'İYS pull failed; will retry');
    }
  }

  async #drain(source: 'HS' | 'IYS'): Promise<void> {
    const { client, store } = this.#o;
    const fetch = (after: string | null) => (this.#o.canSend && !this.#o.canSend()
      ? Promise.reject(Object.assign(new Error('this instance no longer leads İYS work'), { code: 'FENCED' }))
      : client.pullChanges(this.brandCode, { source, limit: PULL_MAX_LIMIT, ...(after ? { after } : {}) }));
    let after = this.#status.cursors[source];
    let page = await fetch(after);
    for (let pages = 0; page !== null && pages < 10_000; pages++) {
      const movements: Movement[] = [];
      const refused: Parameters<DeadLetters['add']>[0] = [];
      const nowMs = (this.#o.now ?? Date.now)();
      for (const raw of page.list) {
        const m = readIysMovement(this.brandCode, raw as RawIysMovement, nowMs);
        if ('reason' in m) refused.push({ brandCode: this.brandCode, via: 'pull', feed: source, ...m, raw: raw as RawIysMovement });
        else movements.push(m);
      }
      const last = page.list.length < PULL_MAX_LIMIT || !page.after || page.after === after;
      // The next page is fetched while this one is applied; this page's cursor is stored only once
      // its movements are durable and its refused items are in the dead-letter store, so a crash
      // repeats at most one page and the cursor never hides an unapplied movement.
      const [applied, lettered, next] = await Promise.allSettled([
        movements.length ? store.apply(movements) : Promise.resolve([]),
        refused.length ? this.#o.deadLetters.add(refused) : Promise.resolve([]),
        last ? Promise.resolve(null) : fetch(page.after),
      ]);
      if (applied.status === 'rejected') throw applied.reason;
      if (lettered.status === 'rejected') throw lettered.reason;
      if (refused.length) {
        this.#status.badMovements += refused.length;
        const reasons = [...new Set(refused.map((r) => r.reason))];
        this.#o.log.warn({ brandCode: this.brandCode, source, count: refused.length, reasons, fields: [...new Set(refused.map((r) => r.field))] }, 'İYS feed items that cannot be applied kept in the dead-letter store (retried every pull cycle)');
      }
      this.#status.pulledMovements += movements.length;
      if (page.after && page.after !== after) {
        await this.#meta.setMeta(metaKey(this.brandCode, `${source}.after`), page.after);
        this.#status.cursors[source] = page.after;
        after = page.after;
      }
      if (next.status === 'rejected') throw next.reason; // this page's cursor is kept
      page = next.value;
    }
  }

  /**
   * Retries this brand's open dead letters with the rules as they are now (the clock may have
   * caught up with a future consentDate): the ones that read now are applied and marked resolved;
   * the rest stay (with their reason updated). Called at the start of every pull cycle.
   * @throws GW_ERR_STORE_UNAVAILABLE (nothing is marked resolved that was not applied)
   */
  async retryDeadLetters(): Promise<number> {
    const dl = this.#o.deadLetters;
    const open = dl.openLetters(this.brandCode);
    if (open.length === 0) return 0;
    const nowMs = (this.#o.now ?? Date.now)();
    const ready: { id: string; m: Movement }[] = [];
    for (const l of open) {
      const m = readIysMovement(this.brandCode, l.raw, nowMs);
      if ('reason' in m) await dl.retried(l.id, m);
      else ready.push({ id: l.id, m });
    }
    if (ready.length === 0) return 0;
    const outcomes = await this.#o.store.apply(ready.map((r) => r.m));
    await dl.resolve(ready.map((r, i) => ({ id: r.id, outcome: outcomes[i]! })));
    this.#status.deadLettersRecovered += ready.length;
    this.#o.log.info({ brandCode: this.brandCode, applied: ready.length }, 'dead-lettered İYS movements applied on retry');
    return ready.length;
  }

  #checkGap(): void {
    const now = (this.#o.now ?? Date.now)();
    const last = this.#status.lastPullAt;
    this.#status.gap = last !== null && isCursorStale(new Date(last), new Date(now));
  }
}

export { PULL_WINDOW_MS };
