import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppendLog, writeLogFileSync, type LogFs } from '../../mirror/append-log.ts';

/** Why a reply waits for a person (bounded vocabulary: a metric label and the review API's `reason`). */
export const REVIEW_REASONS = [
  'free-text-stop', 'keyword-in-sentence', 'keyword-unknown-word', 'question', // the reader's
  'unknown-destination', 'invalid-sender', 'multi-brand-no-hint', 'refusal-failed',
] as const;
export type ReviewReason = (typeof REVIEW_REASONS)[number];

/** One reply kept for a person to decide (GET /v1/optouts/review). */
export interface ReviewItem {
  id: string;
  /** Sender as received (the person who replied); may not normalize (reason `invalid-sender`). */
  from: string;
  /** Destination number or header as received. */
  to: string;
  text: string;
  /** ISO 8601 instant the reply was received. */
  receivedAt: string;
  /** `<via>:<provider message id>`. */
  messageKey: string;
  via: string;
  reason: ReviewReason;
  /** Brands the destination maps to (empty when unknown). */
  brandCodes: number[];
  /** Last Istanbul date a decision is due (one business day from receipt); past it the item is flagged `overdue`. */
  dueDate: string;
  state: 'open' | 'refused' | 'dismissed';
  resolvedAt?: string;
}

type Op =
  | { op: 'seen'; k: string }
  | { op: 'review'; item: ReviewItem }
  | { op: 'resolve'; id: string; state: 'refused' | 'dismissed'; at: string }
  | { op: 'confirm'; k: string }
  | { op: 'cursor'; name: string; value: string };

/**
 * The inbound door's durable state, in one append-only log `<dataDir>/inbound/inbound.log`
 * (append-log.ts: CRC frames, group-committed fdatasync, torn-tail recovery — no second file
 * format): provider message ids already handled (de-duplication of at-least-once deliveries,
 * bounded to `maxIds`, oldest forgotten first), the review queue, the confirmation log (one key
 * per number + brand + Istanbul day) and the pollers' cursors. Each record is one JSON op per line;
 * every mutator resolves once its record is durable. `open()` replays and compacts (a whole-file
 * rewrite through writeLogFileSync) when the log holds much more than its live state.
 */
export class InboundState {
  #log: AppendLog | null = null;
  readonly #seen = new Set<string>();
  readonly #review = new Map<string, ReviewItem>();
  readonly #confirmed = new Set<string>();
  readonly #cursors = new Map<string, string>();
  #records = 0;

  constructor(private readonly opts: { dir: string; maxIds: number; keepResolvedMs: number; now: () => number; fs?: LogFs; warn?: (m: string) => void }) {}

  get path(): string { return join(this.opts.dir, 'inbound.log'); }

  /**
   * Replays the log (recovery rule of append-log.ts) and opens it for appends.
   * @throws GW_ERR_LOG_CORRUPT when the log is damaged before its end
   */
  async open(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    const onRecord = (payload: Buffer) => {
      for (const line of payload.toString('utf8').split('\n')) {
        if (!line) continue;
        this.#records++;
        try { this.#apply(JSON.parse(line) as Op); } catch { this.opts.warn?.(`${this.path}: unreadable inbound record skipped`); }
      }
    };
    let log = await AppendLog.open(this.path, { onRecord, ...(this.opts.fs ? { fs: this.opts.fs } : {}), ...(this.opts.warn ? { warn: this.opts.warn } : {}) });
    if (this.#records > 2 * this.#live() + 10_000) {
      await log.close();
      this.#compact();
      log = await AppendLog.open(this.path, { onRecord: () => undefined });
    }
    this.#log = log;
  }

  /** Waits for pending appends, compacts and closes. Idempotent. */
  async close(): Promise<void> {
    if (!this.#log) return;
    await this.#log.close();
    this.#log = null;
    this.#compact();
  }

  #live(): number { return this.#seen.size + this.#review.size + this.#confirmed.size + this.#cursors.size; }

  #apply(o: Op): void {
    switch (o.op) {
      case 'seen': this.#remember(o.k); break;
      case 'review': this.#review.set(o.item.id, o.item); this.#remember(o.item.messageKey); break;
      case 'resolve': { const it = this.#review.get(o.id); if (it) { it.state = o.state; it.resolvedAt = o.at; } break; }
      case 'confirm': this.#confirmed.add(o.k); break;
      case 'cursor': this.#cursors.set(o.name, o.value); break;
    }
  }

  #remember(k: string): void {
    this.#seen.add(k);
    if (this.#seen.size > this.opts.maxIds) {
      const first = this.#seen.values().next().value as string;
      this.#seen.delete(first);
    }
  }

  async #append(ops: Op[]): Promise<void> {
    if (!this.#log) throw new Error('inbound state is not open');
    for (const o of ops) this.#apply(o);
    this.#records += ops.length;
    await this.#log.append(ops.map((o) => JSON.stringify(o)).join('\n') + '\n');
  }

  /** True when the delivery `<via>:<id>` was already handled (or is being handled). */
  seen(messageKey: string): boolean { return this.#seen.has(messageKey); }

  /** Marks deliveries handled, durably. */
  markSeen(messageKeys: readonly string[]): Promise<void> { return this.#append(messageKeys.map((k) => ({ op: 'seen', k }))); }

  /** Marks deliveries handled and adds review items (each marks its delivery handled) in one durable record. */
  record(seen: readonly string[], reviews: readonly ReviewItem[]): Promise<void> {
    return this.#append([...seen.map((k): Op => ({ op: 'seen', k })), ...reviews.map((item): Op => ({ op: 'review', item }))]);
  }

  /** Adds a review item (which also marks its delivery handled), durably. */
  addReview(item: ReviewItem): Promise<void> { return this.#append([{ op: 'review', item }]); }

  /** Resolves a review item durably; false when no open item has that id. */
  async resolveReview(id: string, state: 'refused' | 'dismissed'): Promise<ReviewItem | null> {
    const it = this.#review.get(id);
    if (!it || it.state !== 'open') return null;
    await this.#append([{ op: 'resolve', id, state, at: new Date(this.opts.now()).toISOString() }]);
    return it;
  }

  getReview(id: string): ReviewItem | undefined { return this.#review.get(id); }

  /** Review items in arrival order, optionally filtered. */
  reviews(filter: (it: ReviewItem) => boolean = () => true): ReviewItem[] {
    return [...this.#review.values()].filter(filter);
  }

  /**
   * Claims the confirmation of `key` (number + brand + Istanbul day) durably: true when this call
   * claimed it (send the SMS), false when it was claimed before (even before a restart).
   */
  async claimConfirmation(key: string): Promise<boolean> {
    if (this.#confirmed.has(key)) return false;
    await this.#append([{ op: 'confirm', k: key }]);
    return true;
  }

  cursor(name: string): string | undefined { return this.#cursors.get(name); }

  /** Stores a poller's cursor durably. */
  setCursor(name: string, value: string): Promise<void> { return this.#append([{ op: 'cursor', name, value }]); }

  /** Counts for /metrics and `iys-gate sync status`. */
  counts(today: string): { open: number; overdue: number; seenIds: number } {
    let open = 0, overdue = 0;
    for (const it of this.#review.values()) if (it.state === 'open') { open++; if (it.dueDate < today) overdue++; }
    return { open, overdue, seenIds: this.#seen.size };
  }

  /** Rewrites the log whole with the live state (resolved reviews older than keepResolvedMs and past days' confirmations dropped). */
  #compact(): void {
    const cutoff = this.opts.now() - this.opts.keepResolvedMs;
    const today = new Date(this.opts.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    const self = this;
    function* records(): Generator<string> {
      let lines: string[] = [];
      const push = function* (o: Op) { lines.push(JSON.stringify(o)); if (lines.length >= 1000) { yield lines.join('\n') + '\n'; lines = []; } };
      const reviewed = new Set<string>();
      for (const it of self.#review.values()) {
        if (it.state !== 'open' && it.resolvedAt && Date.parse(it.resolvedAt) < cutoff) continue;
        reviewed.add(it.messageKey);
        yield* push({ op: 'review', item: it });
      }
      for (const k of self.#seen) if (!reviewed.has(k)) yield* push({ op: 'seen', k });
      for (const k of self.#confirmed) if (k.slice(-10) >= today) yield* push({ op: 'confirm', k });
      for (const [name, value] of self.#cursors) yield* push({ op: 'cursor', name, value });
      if (lines.length) yield lines.join('\n') + '\n';
    }
    writeLogFileSync(this.path, records(), { sealed: false });
  }
}
