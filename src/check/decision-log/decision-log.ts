import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { PolicyRecord } from '../../domain/policy.ts';
import type { ConsentRecord, ConsentType, Decision, MessageType, RecipientType } from '../../domain/types.ts';
import { gatewayError } from '../../errors.ts';
import type { Entrance } from '../entrances.ts';
import {
  RECORD_BYTES, encodeRecord, formatDecisionId, iysDateSeconds, movementRef, type ContextEntry, type DecisionFields, type LintVerdict, type LogReason,
} from './record-format.ts';
import { SegmentWriter, type SegmentWriterOptions, type WriterBatch } from './segment-writer.ts';
import { readManifest, writeManifest } from './segments.ts';
import { WORKER_KIND } from './writer-worker.ts';

/** What to record: every decision (`all`), only those of forwarding entrances (`sends`). */
export type DecisionLogMode = 'all' | 'sends';

/** Options of DecisionLog.open. */
export interface DecisionLogOptions extends Omit<SegmentWriterOptions, 'warn'> {
  mode: DecisionLogMode;
  /** Most time a check's record waits in memory before its group commit, ms (config `decisions.flushMs`). */
  flushMs: number;
  /** `worker` (default): hashing, chaining, fsync on a writer thread; `inline`: on this thread (tests, CLI, benches of the writer). */
  writer?: 'worker' | 'inline';
  /** Records per group commit at most (the preallocated buffer). Default 4,096. */
  batchRecords?: number;
  warn?: (msg: string) => void;
}

/** The context of the decisions of one request, as the screening records them. */
export interface RecordContext {
  entrance: Entrance;
  via: string;
  keyName: string;
  /** Message type the sender declared (before the promotional policy). */
  declaredMessageType?: MessageType;
  lint?: LintVerdict;
  /** Request sequence (set by the first recording; reused by later parts of the same request, e.g. a scrub's batches). */
  seq?: number;
  /** Index of the request's next recipient (advanced as parts are recorded). */
  next?: number;
}

/** Request sequences start at least at (ms since 2024-01-01) × 256, so ids stay unique across restarts without reading the log first. */
const SEQ_EPOCH_MS = Date.UTC(2024, 0, 1);

interface Port {
  write(b: WriterBatch): Promise<void>;
  rotate(): Promise<void>;
  close(): Promise<void>;
  readonly opened: Promise<{ instanceId: string; lastSeq: number }>;
}

/** Running from TypeScript sources: the worker needs tsx's loader (as mirror/import-worker.ts). */
const TS_SOURCE = import.meta.url.endsWith('.ts');

function workerPort(opts: DecisionLogOptions, warn: (m: string) => void): Port {
  const url = new URL(`./writer-worker${TS_SOURCE ? '.ts' : '.js'}`, import.meta.url);
  const { mode: _m, flushMs: _f, writer: _w, batchRecords: _b, warn: _warn, now: _now, ...wopts } = opts;
  const data = { kind: WORKER_KIND, opts: wopts };
  const w = TS_SOURCE
    ? new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`, { eval: true, workerData: data })
    : new Worker(url, { workerData: data });
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let id = 0;
  let dead: Error | null = null;
  let closed: (() => void) | null = null;
  let opened!: { resolve: (v: { instanceId: string; lastSeq: number }) => void; reject: (e: Error) => void };
  const openedP = new Promise<{ instanceId: string; lastSeq: number }>((resolve, reject) => { opened = { resolve, reject }; });
  openedP.catch(() => undefined);
  const fail = (e: Error) => {
    dead ??= e;
    for (const x of waiting.values()) x.reject(dead);
    waiting.clear();
    opened.reject(dead);
    closed?.();
  };
  w.on('message', (m: { t: string; id?: number; message?: string; code?: string; instanceId?: string; lastSeq?: number }) => {
    if (m.t === 'done' || m.t === 'failed') {
      const x = waiting.get(m.id!);
      waiting.delete(m.id!);
      if (m.t === 'done') x?.resolve(); else { const e = new Error(m.message); dead ??= e; x?.reject(e); }
    } else if (m.t === 'opened') opened.resolve({ instanceId: m.instanceId!, lastSeq: m.lastSeq! });
    else if (m.t === 'openFailed') fail(Object.assign(new Error(m.message), { code: m.code }));
    else if (m.t === 'warn') warn(m.message!);
    else if (m.t === 'closed') closed?.();
  });
  w.on('error', (e) => fail(e));
  w.on('exit', () => fail(new Error('decision log writer thread exited')));
  const call = (msg: Record<string, unknown>, transfer: ArrayBuffer[] = []) => {
    if (dead) return Promise.reject(dead);
    const my = ++id;
    const p = new Promise<void>((resolve, reject) => waiting.set(my, { resolve, reject }));
    w.postMessage({ ...msg, id: my }, transfer);
    return p;
  };
  return {
    opened: openedP,
    write: (b) => call({ t: 'batch', records: b.records, count: b.count, recipients: b.recipients, asOfMs: b.asOfMs, dict: b.dict, notes: b.notes }, [b.records.buffer as ArrayBuffer]),
    rotate: () => call({ t: 'rotate' }),
    close: () => new Promise<void>((resolve) => {
      if (dead) { void w.terminate(); resolve(); return; }
      closed = () => { void w.terminate(); resolve(); };
      w.postMessage({ t: 'close' });
    }),
  };
}

function inlinePort(opts: DecisionLogOptions, warn: (m: string) => void): Port {
  const writer = SegmentWriter.open({ ...opts, warn });
  writer.catch(() => undefined);
  return {
    opened: writer.then((w) => ({ instanceId: w.instanceId, lastSeq: w.lastSeq })),
    write: (b) => writer.then((w) => w.write(b)),
    rotate: () => writer.then((w) => w.rotateNow()),
    close: () => writer.then((w) => w.close(), () => undefined),
  };
}

/**
 * The decision log as the screening sees it (README "Proving decisions"): `record…` appends a
 * decision's fixed 46-byte record into a preallocated buffer (no hashing, no I/O, no promise);
 * the buffer goes to the writer as one group commit when `commit()` is called (forwarding
 * entrances wait for it before the message goes upstream), after `flushMs` (checks), when full,
 * or when the mirror's asOf changes. Request-level ids: `<instance id>-<sequence base 36>`.
 *
 * A writer failure (ENOSPC, EIO) fails the log: `commit()` rejects and `assertWritable()` throws
 * GW_ERR_DECISION_LOG_UNAVAILABLE (503) from then on, so nothing is decided without its record.
 */
export class DecisionLog {
  readonly mode: DecisionLogMode;
  readonly #o: DecisionLogOptions;
  #port: Port | null = null;
  readonly #cap: number;
  #instanceId: string;
  #seq: number;
  #buf: Buffer;
  #count = 0;
  #recipients: (string | null)[] = [];
  #asOfMs = 0;
  #notes: unknown[] = [];
  #newDict: ContextEntry[] = [];
  readonly #ctx = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  /** The last batch handed to the writer (batches are written in order: once it settles, every earlier one has). */
  #last: Promise<void> = Promise.resolve();
  /** Batches handed to the writer and not yet durable (1 in steady state; more only when the buffer filled during a commit). */
  #inFlight = 0;
  /** Waiters for the records buffered now: settled with the batch cut the moment the commit in flight ends. */
  #next: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | null = null;
  /** A flushMs timer fired while a commit was in flight: cut as soon as it ends. */
  #cutWhenIdle = false;
  /** Group commits handed to the writer since open (metrics, tests). */
  commits = 0;
  #failed: Error | null = null;
  readonly #f: DecisionFields;

  private constructor(o: DecisionLogOptions, instanceId: string) {
    this.mode = o.mode;
    this.#o = o;
    this.#cap = o.batchRecords ?? 4096;
    this.#instanceId = instanceId;
    this.#seq = (Date.now() - SEQ_EPOCH_MS) * 256;
    this.#buf = this.#alloc();
    this.#f = {
      timeMs: 0, seq: 0, index: 0, brandCode: 0, type: 'MESAJ', recipientType: 'BIREYSEL', declaredMessageType: 'TICARI', messageType: 'TICARI',
      decision: 'BLOCK', reason: 'NO_CONSENT', entrance: 'check', lint: 'not-run', consentStatus: null, source: null, consentDateS: 0, ref: 0, contextId: 0,
    };
  }

  /**
   * Opens the log of `o.dir` without waiting for its writer: reads (or creates) the manifest for
   * the instance id; the writer (thread) starts with the first group commit or `ready()`, and
   * replays the open segment then. Call `ready()` at server start so a damaged log refuses the start.
   * @throws GW_ERR_LOG_CORRUPT when the manifest is damaged; fs errors creating the directory
   */
  static create(o: DecisionLogOptions): DecisionLog {
    mkdirSync(o.dir, { recursive: true });
    let m = readManifest(o.dir);
    if (!m) {
      m = { version: 1, instanceId: randomBytes(4).toString('hex'), segments: [], removed: [], active: null };
      writeManifest(o.dir, m);
    }
    return new DecisionLog(o, m.instanceId);
  }

  /** Opens and waits for the writer (`create` + `ready`). @throws GW_ERR_LOG_CORRUPT as the writer's replay */
  static async open(o: DecisionLogOptions): Promise<DecisionLog> {
    const log = DecisionLog.create(o);
    await log.ready();
    return log;
  }

  #portNow(): Port {
    if (!this.#port) {
      const warn = this.#o.warn ?? (() => undefined);
      this.#port = (this.#o.writer ?? 'worker') === 'worker' ? workerPort(this.#o, warn) : inlinePort(this.#o, warn);
      this.#port.opened.then(({ lastSeq }) => { if (lastSeq >= this.#seq) this.#seq = lastSeq + 1; }, (err: Error) => {
        this.#failed ??= err;
        warn(`decision log cannot open: ${err.message}`);
      });
    }
    return this.#port;
  }

  /**
   * Starts the writer and waits until it replayed the log (torn tail repaired, compression resumed, retention applied).
   * @throws GW_ERR_LOG_CORRUPT when a segment is damaged before its end; fs errors
   */
  async ready(): Promise<void> { await this.#portNow().opened; }

  #alloc(): Buffer { return Buffer.from(new ArrayBuffer(this.#cap * RECORD_BYTES)); }

  get instanceId(): string { return this.#instanceId; }
  /** The error that failed the log, or null. */
  get failure(): Error | null { return this.#failed; }

  /** @throws GW_ERR_DECISION_LOG_UNAVAILABLE (503) once the writer failed */
  assertWritable(): void {
    if (this.#failed) throw gatewayError('GW_ERR_DECISION_LOG_UNAVAILABLE', [this.#failed.message], { cause: this.#failed });
  }

  /** A fresh request sequence (one per request: a check, a batch, a scrub, a forwarded message). */
  newSeq(): number { return this.#seq++; }
  /** The request-level id of a sequence. */
  idOf(seq: number): string { return formatDecisionId(this.#instanceId, seq); }

  /** The dictionary id of (API key name, via); new pairs are written with the next block. */
  contextId(keyName: string, via: string): number {
    const k = `${keyName}\n${via}`;
    let id = this.#ctx.get(k);
    if (id === undefined) {
      id = this.#ctx.size < 65_535 ? this.#ctx.size : 65_535;
      if (id < 65_535) { this.#ctx.set(k, id); this.#newDict.push({ id, keyName, via }); }
    }
    return id;
  }

  /**
   * Records one decision.
   * @param consent the record the policy used (full record: status, source, consentDate and
   *   movement reference stored; a policy-only record: status only), null for none, 'unavailable'
   * @param recipient canonical recipient, or null when the input could not be normalized (then `input` is hashed)
   */
  record(
    ctx: RecordContext & { contextId: number }, seq: number, index: number, timeMs: number, asOfMs: number,
    req: { brandCode: number; type: ConsentType; recipientType: RecipientType; messageType: MessageType },
    decision: Decision, reason: LogReason, consent: ConsentRecord | PolicyRecord | null | 'unavailable', recipient: string | null, input: string,
  ): void {
    if (this.#count > 0 && asOfMs !== this.#asOfMs) this.#handOver(); // one asOf per block: hand over now, even behind a commit in flight
    if (this.#count === 0) this.#asOfMs = asOfMs;
    const f = this.#f;
    f.timeMs = timeMs; f.seq = seq; f.index = index; f.brandCode = req.brandCode; f.type = req.type; f.recipientType = req.recipientType;
    f.declaredMessageType = ctx.declaredMessageType ?? req.messageType; f.messageType = req.messageType; f.decision = decision; f.reason = reason;
    f.entrance = ctx.entrance; f.lint = ctx.lint ?? 'not-run'; f.contextId = ctx.contextId;
    if (consent === null || consent === 'unavailable') {
      f.consentStatus = consent === null ? null : 'UNAVAILABLE'; f.source = null; f.consentDateS = 0; f.ref = 0;
    } else {
      f.consentStatus = consent.status;
      const full = consent as Partial<ConsentRecord>;
      f.source = full.source ?? null; f.consentDateS = iysDateSeconds(full.consentDate); f.ref = movementRef(full.creationDate, full.transactionId);
    }
    encodeRecord(this.#buf, this.#count * RECORD_BYTES, f);
    this.#recipients.push(recipient ?? `\0${input}`);
    if (++this.#count === this.#cap) this.#handOver(); // full: queued behind the commit in flight
    else if (this.#timer === null) {
      this.#timer = setTimeout(() => { this.#timer = null; this.#cut(); }, this.#o.flushMs);
      this.#timer.unref();
    }
  }

  /** Attaches an outcome note to a request (upstream status, upstream request id, report id); written with the next block. */
  note(seq: number, note: Record<string, unknown>): void {
    this.#notes.push({ id: this.idOf(seq), ...note });
    if (this.#timer === null) { this.#timer = setTimeout(() => { this.#timer = null; this.#cut(); }, this.#o.flushMs); this.#timer.unref(); }
  }

  /**
   * Group commit (README "Proving decisions"): at most one batch is being written + fdatasynced;
   * what is recorded meanwhile waits in the buffer and goes as the NEXT batch the moment the one
   * in flight is durable (no timer wait for a forwarding door). The flushMs timer (checks) and a
   * full buffer cut too; a timer that fires while a batch is in flight also waits for it.
   */
  #cut(): void {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = null; }
    if (this.#inFlight > 0) { this.#cutWhenIdle = true; return; }
    this.#handOver();
  }

  /** Hands the buffer to the writer as one batch (one block, one fdatasync); settles the waiters of `#next` with it. */
  #handOver(): void {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = null; }
    const next = this.#next; this.#next = null; this.#cutWhenIdle = false;
    if (this.#count === 0 && this.#notes.length === 0 && this.#newDict.length === 0) {
      if (next) this.#last.then(next.resolve, next.reject);
      return;
    }
    const b: WriterBatch = { records: this.#buf.subarray(0, this.#count * RECORD_BYTES), count: this.#count, recipients: this.#recipients, asOfMs: this.#asOfMs, dict: this.#newDict, notes: this.#notes };
    this.#buf = this.#alloc();
    this.#count = 0; this.#recipients = []; this.#notes = []; this.#newDict = [];
    this.#inFlight++; this.commits++;
    const p = this.#portNow().write(b);
    this.#last = p;
    const settled = () => {
      if (--this.#inFlight === 0 && (this.#next !== null || this.#cutWhenIdle)) this.#handOver();
    };
    p.then(settled, (err: Error) => {
      this.#failed ??= err; this.#o.warn?.(`decision log failed: ${err.message}`);
      settled();
    });
    if (next) p.then(next.resolve, next.reject);
  }

  /**
   * Group commit: resolves once every decision recorded before the call is on disk (fdatasync).
   * When a commit is in flight, the records recorded since join the next one, which starts as
   * soon as it ends; callers of the same moment share one write + fdatasync.
   * @throws GW_ERR_DECISION_LOG_UNAVAILABLE (503) when the writer failed
   */
  async commit(): Promise<void> {
    const buffered = this.#count > 0 || this.#notes.length > 0 || this.#newDict.length > 0;
    let p: Promise<void>;
    if (!buffered) p = this.#last; // what was recorded before the call is in the batches handed over
    else if (this.#inFlight === 0) { this.#cut(); p = this.#last; }
    else {
      if (this.#timer) { clearTimeout(this.#timer); this.#timer = null; }
      if (!this.#next) {
        let resolve!: () => void; let reject!: (e: Error) => void;
        const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
        this.#next = { promise, resolve, reject };
      }
      p = this.#next.promise;
    }
    try { await p; } catch (err) {
      throw gatewayError('GW_ERR_DECISION_LOG_UNAVAILABLE', [(err as Error).message], { cause: err });
    }
  }

  /** Commits, then closes the segment now and opens the next one (tests, tooling). */
  async rotate(): Promise<void> { await this.commit(); await this.#portNow().rotate(); }

  /** Commits what is recorded and stops the writer. Idempotent enough for onClose. */
  async close(): Promise<void> {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = null; }
    try { await this.commit(); } catch { /* reported by warn */ }
    await this.#port?.close();
  }
}
