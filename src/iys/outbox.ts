import { randomUUID } from 'node:crypto';
import { mkdir, open, stat } from 'node:fs/promises';
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { acquireLock } from '../mirror/dir-lock.ts';
import { join } from 'node:path';
import type { ConsentStatus, ConsentType, RecipientType } from '../domain/types.ts';
import { istanbulDate } from '../domain/turkish-time.ts';
import { GroupCommitLog } from '../mirror/group-commit-log.ts';

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
  createdAt: number;
  updatedAt: number;
}

type Patch = Partial<Omit<OutboxItem, 'id' | 'brandCode' | 'consent' | 'origin' | 'receivedAt' | 'createdAt'>>;

/**
 * The durable outbox of consents and refusals to register in İYS. Every change is appended to
 * `<dir>/outbox.log` (JSON lines, group-committed fsync) before the call resolves, so an item
 * acknowledged to a client is never lost; a start replays the log. `close()` compacts it.
 */
export class Outbox {
  #unlock: (() => void) | null = null;
  readonly #items = new Map<string, OutboxItem>();
  readonly #dir: string | null;
  #log: GroupCommitLog | null = null;
  /** Done items older than this (ms) are dropped at compaction. Default 30 days. */
  readonly #keepDoneMs: number;

  /** @param opts.dir directory of outbox.log; null keeps it in memory (tests) */
  readonly #now: () => number;

  constructor(opts: { dir: string | null; keepDoneMs?: number; now?: () => number }) {
    this.#dir = opts.dir;
    this.#now = opts.now ?? Date.now;
    this.#keepDoneMs = opts.keepDoneMs ?? 30 * 86_400_000;
  }

  /**
   * Replays the log and opens it for appends.
   * @throws Error when another live process holds the outbox directory (its `LOCK` file)
   */
  async open(): Promise<void> {
    if (this.#dir === null) return;
    await mkdir(this.#dir, { recursive: true });
    // two gateways on one data directory (a Redis fleet sharing a volume) would interleave one log
    this.#unlock = acquireLock(join(this.#dir, 'LOCK'));
    const path = join(this.#dir, 'outbox.log');
    try {
      await stat(path);
      const fh = await open(path, 'r');
      const text = (await fh.readFile()).toString('utf8');
      await fh.close();
      for (const line of text.split('\n')) {
        if (!line) continue;
        try { this.#replay(JSON.parse(line) as { op: string; item?: OutboxItem; id?: string; patch?: Patch }); } catch { /* torn last line */ }
      }
    } catch { /* no log yet */ }
    this.#log = new GroupCommitLog(path);
    await this.#log.open();
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
  async add(entries: Array<Pick<OutboxItem, 'brandCode' | 'consent' | 'origin' | 'receivedAt' | 'deadline'>>, now = this.#now()): Promise<OutboxItem[]> {
    const items = entries.map((e): OutboxItem => ({
      ...e, id: randomUUID(), state: 'pending', attempts: 0, nextAttemptAt: now, createdAt: now, updatedAt: now,
    }));
    for (const it of items) this.#items.set(it.id, it);
    await this.#append(items.map((item) => ({ op: 'add', item })));
    return items;
  }

  /** Applies patches durably. Unknown ids are ignored. */
  async update(patches: Array<{ id: string; patch: Patch }>, now = this.#now()): Promise<void> {
    const ops: unknown[] = [];
    for (const { id, patch } of patches) {
      const it = this.#items.get(id);
      if (!it) continue;
      Object.assign(it, patch, { updatedAt: now });
      ops.push({ op: 'set', id, patch: { ...patch, updatedAt: now } });
    }
    await this.#append(ops);
  }

  get(id: string): OutboxItem | undefined { return this.#items.get(id); }

  /** Items in creation order, optionally filtered. */
  list(filter: (it: OutboxItem) => boolean = () => true): OutboxItem[] {
    return [...this.#items.values()].filter(filter);
  }

  async #append(ops: unknown[]): Promise<void> {
    if (!this.#log || ops.length === 0) return;
    await this.#log.append(ops.map((o) => JSON.stringify(o) + '\n').join(''));
  }

  #replay(op: { op: string; item?: OutboxItem; id?: string; patch?: Patch }): void {
    if (op.op === 'add' && op.item) this.#items.set(op.item.id, op.item);
    else if (op.op === 'set' && op.id) { const it = this.#items.get(op.id); if (it) Object.assign(it, op.patch); }
  }

  #compactSync(): void {
    const dir = this.#dir!;
    const cutoff = this.#now() - this.#keepDoneMs;
    const tmp = join(dir, 'outbox.tmp');
    const fd = openSync(tmp, 'w');
    try {
      const lines: string[] = [];
      for (const it of this.#items.values()) {
        if (it.state === 'done' && it.updatedAt < cutoff) continue;
        lines.push(JSON.stringify({ op: 'add', item: it }) + '\n');
      }
      writeSync(fd, lines.join(''));
      fsyncSync(fd);
    } finally { closeSync(fd); }
    renameSync(tmp, join(dir, 'outbox.log'));
    const dfd = openSync(dir, 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  }
}

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

