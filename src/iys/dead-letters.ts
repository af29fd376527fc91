import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApplyOutcome } from '../mirror/consent-store.ts';
import { AppendLog, type LogFs } from '../mirror/append-log.ts';
import { unavailable, withTimeout, type RedisClient } from '../mirror/redis-connection.ts';
import { DEAD_LETTER_REASONS, type DeadLetterReason, type RawIysMovement } from './iys-movement.ts';

/** A movement from İYS the gateway could not apply, kept with its raw content until it can be. */
export interface DeadLetter {
  id: string;
  /** The brand it was read for (a pull worker's brand, or the push item's `brandCode`); null when unreadable. */
  brandCode: number | null;
  /** Where it came from: the pull feed (`HS` / `IYS` source) or a push delivery. */
  via: 'pull' | 'push';
  feed?: 'HS' | 'IYS';
  reason: DeadLetterReason;
  /** The field at fault and why (movement-rules.ts message). */
  field: string;
  message: string;
  /** The item exactly as İYS sent it. */
  raw: RawIysMovement;
  /** Epoch ms it was recorded. */
  at: number;
  /** Retries since this process started (not persisted). */
  attempts: number;
  /** Epoch ms it was finally applied, and the store's outcome; absent while open. */
  resolvedAt?: number;
  outcome?: ApplyOutcome;
}

type Op =
  | { op: 'add'; letter: Omit<DeadLetter, 'attempts'> }
  | { op: 'reason'; id: string; reason: DeadLetterReason; field: string; message: string }
  | { op: 'resolved'; id: string; at: number; outcome: ApplyOutcome };

/** Identity of a raw item, so a page read twice (crash before its cursor) is kept once. */
const identity = (brandCode: number | null, raw: RawIysMovement): string => `${brandCode}|${JSON.stringify(raw)}`;

/**
 * The durable dead-letter store of İYS movements (issue 12 item 4): `<dir>/dead-letters.log`,
 * JSON ops appended as records of the project's one append-only log (append-log.ts: CRC-framed,
 * written and fdatasynced before `add` resolves, torn tail cut at open), replayed at open. A pull page's cursor moves, and a push
 * delivery is answered 200, only after its refused items are here; each pull cycle retries the
 * open ones (SyncWorker) and records the ones finally applied. One gateway per data directory
 * (the outbox's LOCK, taken before this opens).
 *
 * In a Redis fleet (`redis` option) the same operations go to one shared list instead
 * (fleet-keys.ts `dl:log`, RPUSH: one element per append, in the fleet's order), so the letters of
 * an instance that died are not lost with its disk: every instance replays the list at open and
 * catches up with what others appended at each of its own appends and at {@link refresh} (the
 * leader before each pull cycle, a follower on its pull timer and before /v1/outbox answers).
 * Replay is idempotent and two instances adding one item keep it once (the later add is marked a
 * duplicate). Appends are not fenced: push deliveries reach any instance.
 */
export class DeadLetters {
  readonly #dir: string | null;
  readonly #now: () => number;
  readonly #letters = new Map<string, DeadLetter>();
  readonly #open = new Map<string, string>(); // identity → id
  #log: AppendLog | null = null;
  readonly #fs: LogFs | undefined;
  readonly #warn: ((msg: string) => void) | undefined;
  readonly #redis: { client: RedisClient; key: string; timeoutMs: number } | null;
  /** List elements of the shared log replayed so far (Redis). */
  #seen = 0;
  #catching: Promise<void> | null = null;
  /** Letters recorded, by reason (all the file holds, resolved included): `iysgate_sync_dead_letters_total`. */
  readonly recorded: Record<DeadLetterReason, number> = Object.fromEntries(DEAD_LETTER_REASONS.map((r) => [r, 0])) as Record<DeadLetterReason, number>;

  /**
   * @param opts.dir directory of the log; null keeps the letters in memory (tests without a data directory)
   * @param opts.fs file layer of the append path (tests: a failing or slow fsync)
   * @param opts.warn receives recovery warnings (torn tail repaired)
   * @param opts.redis a fleet's shared log (list key, fleet-keys.ts `deadLetters`; `timeoutMs` bound of one call, default 2,000); `dir` is then unused
   */
  constructor(opts: { dir: string | null; now?: () => number; fs?: LogFs; warn?: (msg: string) => void; redis?: { client: RedisClient; key: string; timeoutMs?: number } }) {
    this.#redis = opts.redis ? { client: opts.redis.client, key: opts.redis.key, timeoutMs: opts.redis.timeoutMs ?? 2000 } : null;
    this.#dir = this.#redis ? null : opts.dir;
    this.#now = opts.now ?? Date.now;
    this.#fs = opts.fs;
    this.#warn = opts.warn;
  }

  /**
   * Replays the log and opens it for appends (append-log.ts: a torn tail from a crash is cut off
   * before the first append).
   * @throws GW_ERR_LOG_CORRUPT when the file is damaged before its end
   */
  async open(): Promise<void> {
    if (this.#redis) { await this.refresh(); return; }
    if (this.#dir === null || this.#log) return;
    await mkdir(this.#dir, { recursive: true });
    const path = join(this.#dir, 'dead-letters.log');
    this.#log = await AppendLog.open(path, {
      onRecord: (payload) => {
        for (const line of payload.toString('utf8').split('\n')) {
          if (!line) continue;
          // the record's checksum holds: a line that does not parse is of an unknown (newer) format
          try { this.#replay(JSON.parse(line) as Op); } catch { this.#warn?.(`${path}: unreadable dead-letter operation skipped (written by a newer release?)`); }
        }
      },
      ...(this.#fs ? { fs: this.#fs } : {}), ...(this.#warn ? { warn: this.#warn } : {}),
    });
  }

  async close(): Promise<void> {
    const log = this.#log;
    this.#log = null;
    await log?.close();
  }

  /**
   * Records refused items durably (resolves once on disk). An item identical to an open letter
   * (same brand and raw content) is not recorded twice.
   * @returns the letters (existing ones for repeats)
   * @throws the file error (ENOSPC, EIO, …): the caller must not move its cursor nor answer 2xx
   */
  async add(entries: Array<Pick<DeadLetter, 'brandCode' | 'via' | 'reason' | 'field' | 'message' | 'raw'> & { feed?: 'HS' | 'IYS' }>): Promise<DeadLetter[]> {
    const now = this.#now();
    const out: DeadLetter[] = [];
    const ops: Op[] = [];
    for (const e of entries) {
      const known = this.#open.get(identity(e.brandCode, e.raw));
      if (known) { out.push(this.#letters.get(known)!); continue; }
      const letter: DeadLetter = { id: randomUUID(), ...e, at: now, attempts: 0 };
      const { attempts: _a, ...stored } = letter;
      ops.push({ op: 'add', letter: stored });
      out.push(letter);
    }
    await this.#append(ops);
    for (const op of ops) this.#replay(op);
    return out.map((l) => this.#letters.get(l.id) ?? l);
  }

  /** Records that open letters were applied at last (durable before it resolves). */
  async resolve(done: Array<{ id: string; outcome: ApplyOutcome }>): Promise<void> {
    const at = this.#now();
    const ops: Op[] = done.filter((d) => this.#letters.get(d.id)?.resolvedAt === undefined).map((d) => ({ op: 'resolved', id: d.id, at, outcome: d.outcome }));
    await this.#append(ops);
    for (const op of ops) this.#replay(op);
  }

  /** Notes a retry that still failed; a changed reason is persisted, an unchanged one only counted. */
  async retried(id: string, now: { reason: DeadLetterReason; field: string; message: string }): Promise<void> {
    const l = this.#letters.get(id);
    if (!l) return;
    l.attempts++;
    if (l.reason === now.reason && l.field === now.field) return;
    const op: Op = { op: 'reason', id, ...now };
    await this.#append([op]);
    this.#replay(op);
  }

  /** Open letters (optionally of one brand), oldest first. */
  openLetters(brandCode?: number): DeadLetter[] {
    const out: DeadLetter[] = [];
    for (const id of this.#open.values()) {
      const l = this.#letters.get(id)!;
      if (brandCode === undefined || l.brandCode === brandCode) out.push(l);
    }
    return out.sort((a, b) => a.at - b.at);
  }

  /**
   * Counts of open letters by reason, of all recorded ones and of those applied on retry,
   * optionally of the letters `keep` accepts (a key's brands).
   */
  summary(keep: (l: DeadLetter) => boolean = () => true): { open: number; openByReason: Record<DeadLetterReason, number>; recorded: number; resolved: number } {
    const openByReason = Object.fromEntries(DEAD_LETTER_REASONS.map((r) => [r, 0])) as Record<DeadLetterReason, number>;
    let open = 0;
    let recorded = 0;
    for (const l of this.#letters.values()) {
      if (!keep(l)) continue;
      recorded++;
      if (l.resolvedAt === undefined) { open++; openByReason[l.reason]++; }
    }
    return { open, openByReason, recorded, resolved: recorded - open };
  }

  /**
   * A fleet (Redis): replays what other instances appended since the last catch-up. One file
   * (no `redis`): nothing to do.
   * @throws GW_ERR_STORE_UNAVAILABLE when Redis does not answer
   */
  async refresh(): Promise<void> {
    if (!this.#redis) return;
    this.#catching ??= this.#catchUp().finally(() => { this.#catching = null; });
    return this.#catching;
  }

  async #catchUp(): Promise<void> {
    const r = this.#redis!;
    for (;;) {
      const got = await withTimeout(r.client.lrange(r.key, this.#seen, this.#seen + 999), r.timeoutMs, 'dead letters').catch((err: unknown) => { throw unavailable('dead letters', err); });
      for (const payload of got) this.#replayPayload(payload, `redis ${r.key}`);
      this.#seen += got.length;
      if (got.length < 1000) return;
    }
  }

  #replayPayload(payload: string, where: string): void {
    for (const line of payload.split('\n')) {
      if (!line) continue;
      try { this.#replay(JSON.parse(line) as Op); } catch { this.#warn?.(`${where}: unreadable dead-letter operation skipped (written by a newer release?)`); }
    }
  }

  async #append(ops: Op[]): Promise<void> {
    if (ops.length === 0) return;
    const r = this.#redis;
    if (r) {
      // durable in Redis before it resolves (AOF); then this instance catches up in the fleet's order
      await withTimeout(r.client.rpush(r.key, ops.map((o) => JSON.stringify(o)).join('\n')), r.timeoutMs, 'dead letters').catch((err: unknown) => { throw unavailable('dead letters', err); });
      await this.refresh();
      return;
    }
    if (this.#dir === null) return;
    if (!this.#log) throw new Error('dead-letter store is not open');
    await this.#log.append(ops.map((o) => JSON.stringify(o)).join('\n'));
  }

  #replay(op: Op): void {
    if (op.op === 'add') {
      if (this.#letters.has(op.letter.id)) return;
      const l: DeadLetter = { ...op.letter, attempts: 0 };
      this.#letters.set(l.id, l);
      this.recorded[l.reason] = (this.recorded[l.reason] ?? 0) + 1;
      const ident = identity(l.brandCode, l.raw);
      // two concurrent adds of one item: the second is the first's duplicate
      if (l.resolvedAt === undefined && this.#open.has(ident)) { l.resolvedAt = l.at; l.outcome = 'duplicate'; }
      if (l.resolvedAt === undefined) this.#open.set(ident, l.id);
    } else if (op.op === 'reason') {
      const l = this.#letters.get(op.id);
      if (l) { l.reason = op.reason; l.field = op.field; l.message = op.message; }
    } else if (op.op === 'resolved') {
      const l = this.#letters.get(op.id);
      if (l && l.resolvedAt === undefined) {
        l.resolvedAt = op.at;
        l.outcome = op.outcome;
        this.#open.delete(identity(l.brandCode, l.raw));
      }
    }
  }
}
