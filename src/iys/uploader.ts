import type { FastifyBaseLogger } from 'fastify';
import { addBusinessDays } from '../domain/calendar.ts';
import { istanbulDate } from '../domain/turkish-time.ts';
import type { Movement } from '../domain/types.ts';
import type { ConsentStore } from '../mirror/consent-store.ts';
import type { IysClientError } from './client-errors.ts';
import type { IysClient } from './client.ts';
import type { ConsentInput } from './consent-rules.ts';
import type { OutboxItem, OutboxOutcome } from './outbox.ts';
import type { OutboxStore } from './outbox-store.ts';

export interface UploaderOptions {
  outbox: OutboxStore;
  client: IysClient;
  store: ConsentStore;
  log: FastifyBaseLogger;
  /** Up to this many due items of one brand go as single v2 writes; more go as batches. Default 20. */
  singleMax?: number;
  /** Wait before polling a batch, in ms (İYS: no earlier than 300 s). Default 300,000. */
  pollAfterMs?: number;
  /** Back-off after a retryable failure, in ms: base·2^attempts capped. Defaults 5,000 and 900,000. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /**
   * How long a claim on an item lasts, in ms (default 15,000; the fleet passes `iys.leaseMs`):
   * before a write to İYS the uploader sets the items' nextAttemptAt that far ahead and marks
   * `claimedAt`; if the instance dies before recording the outcome, the items are due again after
   * it and the next leader reclaims them (the repeat is answered H174/H175/H178: done).
   */
  claimMs?: number;
  /**
   * Whether this instance may send to İYS now (the fleet's lease: LeaderLease.isLeader), checked
   * before every request. Default: always.
   */
  canSend?: () => boolean;
  /** Told how many due items were reclaimed (claimed by an instance that never recorded an outcome). */
  onReclaimed?: (n: number) => void | Promise<void>;
  /** Clock (epoch ms). */
  now?: () => number;
}

/** Thrown inside a tick when the lease was lost: the pass stops, nothing more is sent. */
class NotLeader extends Error {}

/** İYS refusal codes that end an item without a retry (DOMAIN.md §6, field case C05). */
const TERMINAL: Record<string, { state: 'done' | 'failed'; outcome: OutboxOutcome }> = {
  H174: { state: 'done', outcome: 'already_refused' },
  H175: { state: 'done', outcome: 'nothing_to_revoke' },
  H178: { state: 'done', outcome: 'stale_consent' },
};
const RETRYABLE = new Set(['GW_ERR_IYS_UNAVAILABLE', 'GW_ERR_IYS_TIMEOUT', 'GW_ERR_IYS_RATE_LIMITED', 'GW_ERR_IYS_TOKEN_HALTED', 'GW_ERR_IYS_BUDGET_EXHAUSTED', 'GW_ERR_IYS_AUTH']);

/**
 * Uploads the outbox to İYS: v2 single writes for a few due items, v2 batches (≤ 1000) for more,
 * then polls batch results (success → done; H174 done; H175/H178 terminal with their reason;
 * other failures → failed with the H-code; enqueue → polled again). Retryable failures (İYS down,
 * 5xx, 429, token halt) leave the item pending with exponential back-off while its deadline keeps
 * running. A registered ONAY is applied to the mirror with İYS's transactionId (strict mode: only
 * then does it count as consent).
 */
export class Uploader {
  readonly #o: Required<Omit<UploaderOptions, 'now' | 'onReclaimed'>> & { now: () => number; onReclaimed?: UploaderOptions['onReclaimed'] };
  #running: Promise<void> | null = null;
  readonly #warned = new Map<string, string>();

  constructor(opts: UploaderOptions) {
    this.#o = { singleMax: 20, pollAfterMs: 300_000, retryBaseMs: 5_000, retryMaxMs: 900_000, claimMs: 15_000, canSend: () => true, now: Date.now, ...opts };
  }

  /**
   * One pass: uploads due items, polls due batches, warns about near deadlines. Never throws: a
   * lost lease (FencedError, canSend false) or an unreachable outbox ends the pass, logged.
   */
  tick(): Promise<void> {
    if (!this.#running) {
      this.#running = this.#tick().catch((err: unknown) => {
        if (err instanceof NotLeader || (err as { code?: string }).code === 'FENCED') this.#o.log.warn({ err }, 'outbox upload stopped: this instance no longer leads İYS work');
        else this.#o.log.warn({ err }, 'outbox upload pass failed; will retry');
      }).finally(() => { this.#running = null; });
    }
    return this.#running;
  }

  #mayCall(): void {
    if (!this.#o.canSend()) throw new NotLeader('lease lost');
  }

  async #tick(): Promise<void> {
    const { outbox } = this.#o;
    if (!this.#o.canSend()) return;
    const now = this.#o.now();
    await this.#warnDeadlines(now);
    const dueAll = await outbox.due(now);
    const submitted = dueAll.filter((it) => it.state === 'submitted' && now - (it.submittedAt ?? 0) >= this.#o.pollAfterMs);
    const byRequest = groupBy(submitted, (it) => `${it.brandCode}|${it.requestId}`);
    for (const items of byRequest.values()) await this.#poll(items);
    const due = dueAll.filter((it) => it.state === 'pending');
    if (due.length === 0) return;
    // claim before sending: an item whose outcome is never recorded (this instance dies or loses
    // the lease mid-request) is due again after claimMs, and the next leader reclaims it
    const reclaimed = due.filter((it) => (it.claimedAt ?? 0) > 0).length;
    this.#mayCall();
    const claimUntil = now + this.#o.claimMs;
    await outbox.update(due.map((it) => ({ id: it.id, patch: { claimedAt: now, nextAttemptAt: claimUntil } })));
    if (reclaimed > 0) {
      this.#o.log.warn({ reclaimed }, 'outbox items reclaimed from an instance that did not record their outcome');
      await this.#o.onReclaimed?.(reclaimed);
    }
    for (const [brandCode, items] of groupBy(due, (it) => it.brandCode)) {
      const live = await this.#supersede(items);
      if (live.length <= this.#o.singleMax) {
        for (const it of live) await this.#single(brandCode, it);
      } else {
        for (let i = 0; i < live.length; i += 1000) await this.#batch(brandCode, live.slice(i, i + 1000));
      }
    }
  }

  /** Keeps the newest pending item per key; older ones end as `superseded` (İYS refuses repeats, H193/H194). */
  async #supersede(items: OutboxItem[]): Promise<OutboxItem[]> {
    const best = new Map<string, OutboxItem>();
    const older: OutboxItem[] = [];
    for (const it of items) {
      const c = it.consent;
      const k = `${c.recipientType}|${c.type}|${c.recipient}`;
      const prev = best.get(k);
      if (!prev) { best.set(k, it); continue; }
      const newer = c.consentDate > prev.consent.consentDate || (c.consentDate === prev.consent.consentDate && c.status === 'RET');
      if (newer) { older.push(prev); best.set(k, it); } else older.push(it);
    }
    if (older.length) await this.#o.outbox.update(older.map((it) => ({ id: it.id, patch: { state: 'done', outcome: 'superseded', claimedAt: 0 } })));
    return [...best.values()];
  }

  async #single(brandCode: number, it: OutboxItem): Promise<void> {
    this.#mayCall();
    let r;
    try {
      r = await this.#o.client.addConsent(brandCode, toInput(it));
    } catch (err) {
      await this.#failed(it, err);
      return;
    }
    // outbox errors (a lost lease: FencedError) end the pass; the item stays claimed and is retried
    await this.#o.outbox.update([{ id: it.id, patch: { attempts: it.attempts + 1 } }]);
    await this.#registered(it, r.transactionId, r.creationDate);
  }

  async #batch(brandCode: number, items: OutboxItem[]): Promise<void> {
    this.#mayCall();
    let r;
    try {
      r = await this.#o.client.addConsentBatch(brandCode, items.map(toInput));
    } catch (err) {
      for (const it of items) await this.#failed(it, err);
      return;
    }
    const now = this.#o.now();
    await this.#o.outbox.update(items.map((it, i) => ({
      id: it.id, patch: { state: 'submitted', requestId: r.requestId, requestIndex: i, submittedAt: now, attempts: it.attempts + 1, nextAttemptAt: now + this.#o.pollAfterMs, claimedAt: 0 },
    })));
    this.#o.log.info({ brandCode, requestId: r.requestId, items: items.length }, 'outbox batch submitted to İYS');
  }

  async #poll(items: OutboxItem[]): Promise<void> {
    const first = items[0]!;
    this.#mayCall();
    let outcome;
    try {
      outcome = await this.#o.client.pollBatch(first.brandCode, first.requestId!);
    } catch (err) {
      if ((err as { code?: string }).code === 'FENCED') throw err;
      const now = this.#o.now();
      this.#o.log.warn({ err, requestId: first.requestId }, 'batch poll failed; will poll again');
      await this.#o.outbox.update(items.map((it) => ({ id: it.id, patch: { nextAttemptAt: now + this.#backoff(it.attempts) } })));
      return;
    }
    const byIndex = new Map(items.map((it) => [it.requestIndex!, it]));
    for (const s of outcome.succeeded) { const it = byIndex.get(s.index); if (it) await this.#registered(it, s.transactionId, s.creationDate ?? null); }
    for (const f of outcome.failed) {
      const it = byIndex.get(f.index);
      if (!it) continue;
      await this.#terminalOrFailed(it, f.code, f.message);
    }
    const pendingIdx = outcome.notReady ? items.map((it) => it.requestIndex!) : outcome.pending;
    const now = this.#o.now();
    await this.#o.outbox.update(pendingIdx.flatMap((i) => {
      const it = byIndex.get(i);
      return it ? [{ id: it.id, patch: { nextAttemptAt: now + Math.min(this.#o.pollAfterMs, 60_000) } }] : [];
    }));
  }

  async #registered(it: OutboxItem, transactionId: string, creationDate: string | null): Promise<void> {
    const c = it.consent;
    const m: Movement = {
      brandCode: it.brandCode, recipient: c.recipient, recipientType: c.recipientType, type: c.type, status: c.status,
      source: c.source as Movement['source'], consentDate: c.consentDate, creationDate, transactionId, noncanonical: false,
      ...(c.retailerCode !== undefined ? { retailerCode: c.retailerCode } : {}), ...(c.retailerAccess ? { retailerAccess: c.retailerAccess } : {}),
    };
    await this.#o.store.apply([m]);
    await this.#o.outbox.update([{ id: it.id, patch: { state: 'done', outcome: 'registered', transactionId, claimedAt: 0, ...(creationDate ? { creationDate } : {}) } }]);
  }

  async #terminalOrFailed(it: OutboxItem, code: string, message: string): Promise<void> {
    const t = TERMINAL[code];
    if (t) {
      await this.#o.outbox.update([{ id: it.id, patch: { state: t.state, outcome: t.outcome, lastError: { code, message }, claimedAt: 0 } }]);
      return;
    }
    this.#o.log.error({ id: it.id, code, brandCode: it.brandCode }, 'İYS refused an outbox item; it needs attention');
    await this.#o.outbox.update([{ id: it.id, patch: { state: 'failed', outcome: 'rejected', lastError: { code, message }, claimedAt: 0 } }]);
  }

  async #failed(it: OutboxItem, err: unknown): Promise<void> {
    const e = err as Partial<IysClientError> & Error;
    if ((e.code as string | undefined) === 'FENCED') throw err; // lease lost: nothing was sent, record nothing
    if (e.code && RETRYABLE.has(e.code)) {
      const now = this.#o.now();
      await this.#o.outbox.update([{ id: it.id, patch: { attempts: it.attempts + 1, nextAttemptAt: now + this.#backoff(it.attempts), lastError: { code: e.code, message: e.message }, claimedAt: 0 } }]);
      return;
    }
    const h = e.iysCodes ?? [];
    await this.#terminalOrFailed(it, h[0] ?? e.code ?? 'UNKNOWN', e.message);
  }

  #backoff(attempts: number): number {
    return Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.min(attempts, 20));
  }

  /** Logs a warning (once a day per item) for open items within one business day of their deadline. */
  async #warnDeadlines(now: number): Promise<void> {
    const today = istanbulDate(new Date(now));
    let next: string;
    try { next = addBusinessDays(today, 1); } catch { return; }
    for (const it of (await this.#o.outbox.due(Number.MAX_SAFE_INTEGER)).filter((x) => x.deadline !== null)) {
      if (it.deadline! > next || this.#warned.get(it.id) === today) continue;
      this.#warned.set(it.id, today);
      this.#o.log.warn({ id: it.id, brandCode: it.brandCode, deadline: it.deadline, overdue: it.deadline! < today }, it.deadline! < today ? 'outbox item is past its İYS deadline' : 'outbox item is within one business day of its İYS deadline');
    }
  }
}

function toInput(it: OutboxItem): ConsentInput {
  const c = it.consent;
  return {
    recipient: c.recipient, type: c.type, source: c.source, status: c.status, consentDate: c.consentDate, recipientType: c.recipientType,
    ...(c.retailerCode !== undefined ? { retailerCode: c.retailerCode } : {}), ...(c.retailerAccess ? { retailerAccess: c.retailerAccess } : {}),
  };
}

function groupBy<T, K>(xs: readonly T[], key: (x: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const x of xs) { const k = key(x); const l = m.get(k); if (l) l.push(x); else m.set(k, [x]); }
  return m;
}
