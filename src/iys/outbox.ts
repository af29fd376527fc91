import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { acquireLock } from '../mirror/dir-lock.ts';
import { join } from 'node:path';
import type { ConsentStatus, ConsentType, RecipientType } from '../domain/types.ts';
import { istanbulDate } from '../domain/turkish-time.ts';
import { AppendLog, writeLogFileSync, type LegacyFormat, type LogFs } from '../mirror/append-log.ts';
import type { Movement } from '../domain/types.ts';
import type { ApplyOutcome, ConsentStore } from '../mirror/consent-store.ts';
import type { OutboxEntry, OutboxPatch, OutboxStore } from './outbox-store.ts';

/** What one outbox item asks İYS to register (İYS `Consent` body; recipient canonical). */
export interface OutboxConsent {
  recipient: string;
  type: ConsentType;
  recipientType: RecipientType;
  status: ConsentStatus;
  source: string;
  consentDate: string;
  retailerCode?: number;
  retailerAccess?: number[];
}

/** Life of an item: pending → (submitted →) done | failed. `done` includes terminal İYS answers. */
export type OutboxState = 'pending' | 'submitted' | 'done' | 'failed';

/**
 * How an item ended: `registered` (İYS transactionId), `already_refused` (H174, success),
 * `nothing_to_revoke` (H175), `stale_consent` (H178: İYS holds a newer record), `superseded` (a
 * newer item for the same key replaced it before upload), `rejected` (another İYS refusal; `failed`).
 */
export type OutboxOutcome = 'registered' | 'already_refused' | 'nothing_to_revoke' | 'stale_consent' | 'superseded' | 'rejected';

export interface OutboxItem {
  id: string;
  brandCode: number;
  consent: OutboxConsent;
  origin: 'rejection' | 'consent' | 'upload';
  /** ISO 8601 instant the company received the consent or refusal. */
  receivedAt: string;
  /** Last Istanbul date to register it in İYS (3 business days), or null when unknown. */
  deadline: string | null;
  state: OutboxState;
  outcome?: OutboxOutcome;
  attempts: number;
  /** Epoch ms before which the uploader leaves the item alone (back-off). */
  nextAttemptAt: number;
  requestId?: string;
  /** Index of the item in its batch request. */
  requestIndex?: number;
  /** Epoch ms the batch was submitted. */
  submittedAt?: number;
  transactionId?: string;
  creationDate?: string;
  lastError?: { code: string; message: string };
  /**
   * Epoch ms the leader claimed the item for a request to İYS (0 once the request's outcome is
   * recorded). An item still claimed when its `nextAttemptAt` passes was in flight on an instance
   * that died or lost the lease: the next leader reclaims it (uploader.ts).
   */
  claimedAt?: number;
  createdAt: number;
  updatedAt: number;
}

type Patch = OutboxPatch;

/**
 * The durable outbox of consents and refusals to register in İYS. Every change is appended to
 * `<dir>/outbox.log` (append-log.ts: one CRC-framed record of JSON lines per call, group-committed
 * fsync) before the call resolves, so an item acknowledged to a client is never lost; a start
 * replays the log with its recovery rule (torn tail truncated before the first append, damage
 * before the end → GW_ERR_LOG_CORRUPT). `close()` compacts it. A log of the earlier unframed
 * format (JSON lines) is read and converted at open.
 */
export class Outbox implements OutboxStore {
  readonly kind = 'file' as const;
  #unlock: (() => void) | null = null;
  readonly #items = new Map<string, OutboxItem>();
  readonly #dir: string | null;
  #log: AppendLog | null = null;
  readonly #fs: LogFs | undefined;
  readonly #warn: ((msg: string) => void) | undefined;
  /** Done items older than this (ms) are dropped at compaction. Default 30 days. */
  readonly #keepDoneMs: number;

  /** @param opts.dir directory of outbox.log; null keeps it in memory (tests) */
  readonly #now: () => number;

  /**
   * @param opts.dir directory of outbox.log; null keeps it in memory (tests)
   * @param opts.fs file layer of the log's append path (tests: a slow or failing fsync)
   * @param opts.warn receives recovery warnings (torn tail repaired, legacy log converted)
   */
  constructor(opts: { dir: string | null; keepDoneMs?: number; now?: () => number; fs?: LogFs; warn?: (msg: string) => void }) {
    this.#dir = opts.dir;
    this.#fs = opts.fs;
    this.#warn = opts.warn;
    this.#now = opts.now ?? Date.now;
    this.#keepDoneMs = opts.keepDoneMs ?? 30 * 86_400_000;
  }

  /**
   * Replays the log and opens it for appends.
   * @throws Error when another live process holds the outbox directory (its `LOCK` file)
   * @throws GW_ERR_LOG_CORRUPT when outbox.log is damaged before its end
   */
  async open(): Promise<void> {
    if (this.#dir === null) return;
    await mkdir(this.#dir, { recursive: true });
    // two gateways on one data directory (a Redis fleet sharing a volume) would interleave one log
    this.#unlock = acquireLock(join(this.#dir, 'LOCK'));
    const path = join(this.#dir, 'outbox.log');
    try {
      this.#log = await AppendLog.open(path, {
        onRecord: (payload) => {
          for (const line of payload.toString('utf8').split('\n')) {
            if (!line) continue;
            // the record's checksum holds: a line that does not parse is of an unknown (newer) format
            try { this.#replay(JSON.parse(line) as ReplayOp); } catch { this.#warn?.(`${path}: unreadable outbox operation skipped (written by a newer release?)`); }
          }
        },
        legacy: OUTBOX_LEGACY, ...(this.#fs ? { fs: this.#fs } : {}), ...(this.#warn ? { warn: this.#warn } : {}),
      });
    } catch (err) {
      this.#unlock?.();
      this.#unlock = null;
      throw err;
    }
  }

  async close(): Promise<void> {
    if (!this.#log) return;
    await this.#log.close();
    this.#compactSync();
    this.#log = null;
    this.#unlock?.();
    this.#unlock = null;
  }

  /**
   * Adds items durably; resolves once they are on disk.
   * @returns the stored items (with ids)
   */
  async add(entries: readonly OutboxEntry[], now = this.#now()): Promise<OutboxItem[]> {
    const items = entries.map((e): OutboxItem => ({
      ...e, id: randomUUID(), state: 'pending', attempts: 0, nextAttemptAt: now, createdAt: now, updatedAt: now,
    }));
    for (const it of items) this.#items.set(it.id, it);
    await this.#append(items.map((item) => ({ op: 'add', item })));
    return items;
  }

  /** OutboxStore.addAndApply: the items durable first, then the mirror write. */
  async addAndApply(entries: readonly OutboxEntry[], movements: readonly Movement[], store: ConsentStore, now = this.#now()): Promise<{ items: OutboxItem[]; outcomes: ApplyOutcome[] }> {
    const items = entries.length ? await this.add(entries, now) : [];
    const outcomes = movements.length ? await store.apply(movements) : [];
    return { items, outcomes };
  }

  /** Applies patches durably. Unknown ids are ignored. */
  async update(patches: ReadonlyArray<{ id: string; patch: Patch }>, now = this.#now()): Promise<void> {
    const ops: unknown[] = [];
    for (const { id, patch } of patches) {
      const it = this.#items.get(id);
      if (!it) continue;
      Object.assign(it, patch, { updatedAt: now });
      ops.push({ op: 'set', id, patch: { ...patch, updatedAt: now } });
    }
    await this.#append(ops);
  }

  async get(id: string): Promise<OutboxItem | undefined> { const it = this.#items.get(id); return it ? { ...it } : undefined; }

  /** Items in creation order, optionally filtered (copies). */
  async list(filter: (it: OutboxItem) => boolean = () => true): Promise<OutboxItem[]> {
    return [...this.#items.values()].filter(filter).map((it) => ({ ...it }));
  }

  async due(now: number): Promise<OutboxItem[]> {
    return this.list((it) => (it.state === 'pending' || it.state === 'submitted') && it.nextAttemptAt <= now);
  }

  async #append(ops: unknown[]): Promise<void> {
    if (!this.#log || ops.length === 0) return;
    await this.#log.append(ops.map((o) => JSON.stringify(o) + '\n').join(''));
  }

  #replay(op: ReplayOp): void {
    if (op.op === 'add' && op.item) this.#items.set(op.item.id, op.item);
    else if (op.op === 'set' && op.id) { const it = this.#items.get(op.id); if (it) Object.assign(it, op.patch); }
  }

  /** Rewrites outbox.log whole (framed, 1,000 items per record; temp file, fsync, rename). */
  #compactSync(): void {
    const cutoff = this.#now() - this.#keepDoneMs;
    const items = this.#items;
    function* records(): Generator<string> {
      let lines: string[] = [];
      for (const it of items.values()) {
        if (it.state === 'done' && it.updatedAt < cutoff) continue;
        lines.push(JSON.stringify({ op: 'add', item: it }) + '\n');
        if (lines.length >= 1000) { yield lines.join(''); lines = []; }
      }
      if (lines.length) yield lines.join('');
    }
    writeLogFileSync(join(this.#dir!, 'outbox.log'), records(), { sealed: false });
  }
}

type ReplayOp = { op: string; item?: OutboxItem; id?: string; patch?: Patch };

/** A JSON line of the earlier unframed outbox.log: `{"op":"add","item":…}` or `{"op":"set","id":…}`. */
const OUTBOX_LEGACY: LegacyFormat = {
  valid(line) {
    if (!line.startsWith('{')) return false;
    try {
      const o = JSON.parse(line) as ReplayOp;
      return (o.op === 'add' && typeof o.item?.id === 'string') || (o.op === 'set' && typeof o.id === 'string');
    } catch { return false; }
  },
};

/** Counts and the nearest deadline of the outbox (also used by metrics and the CLI). */
export function outboxSummary(items: readonly OutboxItem[], now = Date.now()) {
  const today = istanbulDate(new Date(now));
  const open = items.filter((i) => i.state === 'pending' || i.state === 'submitted');
  // a refusal whose deadline could not be computed (outside the holiday table) counts as overdue
  const overdue = open.filter((i) => (i.deadline !== null && i.deadline < today) || (i.deadline === null && i.origin === 'rejection'));
  const nearest = open.map((i) => i.deadline).filter((d): d is string => d !== null).sort()[0] ?? null;
  // the end of the deadline day in Istanbul (UTC+03:00)
  const msLeft = nearest === null ? null : Date.parse(`${nearest}T23:59:59+03:00`) - now;
  return {
    pending: items.filter((i) => i.state === 'pending').length,
    submitted: items.filter((i) => i.state === 'submitted').length,
    done: items.filter((i) => i.state === 'done').length,
    failed: items.filter((i) => i.state === 'failed').length,
    overdue: overdue.length,
    nearestDeadline: nearest,
    secondsToNearestDeadline: msLeft === null ? null : Math.round(msLeft / 1000),
  };
}

