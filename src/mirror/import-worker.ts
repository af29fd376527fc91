import { readlinkSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { availableParallelism, getPriority, setPriority } from 'node:os';
import { MessageChannel, Worker, isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Movement } from '../domain/types.ts';
import { gatewayError } from '../errors.ts';
import { ImportRowParser, type ImportError } from './import-rows.ts';
import { EncodedBatch, LmdbImportSink, type LmdbImportTarget, type OutcomeCounts } from './lmdb-import-sink.ts';

/** What the parser answers for each text piece (and at the end). */
interface RowsMessage {
  id: number;
  /** Valid rows as movements, for the caller to apply (no `lmdb` target at init). */
  movements: Movement[];
  /** Row errors, at most the report's remaining budget; `rejected` counts them all. */
  errors: ImportError[];
  rejected: number;
  rows: number;
  layout: 'daily' | 'upload';
  headerSeen: boolean;
  /** Set when the parser threw: GW_ERR_IMPORT_FORMAT's argument, or another error's message. */
  fatal?: { format: string | null; message: string };
}

/** What the applier posts to the main thread: outcomes committed (fsynced) since its last message. */
interface AppliedMessage {
  applier: true;
  committed: OutcomeCounts;
  /** The last one of the import (after the parser's end, every movement committed). */
  done: boolean;
  /** Set when a transaction failed (nothing of it counted): the import fails with this message. */
  error?: string;
  /** Answer to an abort command (the applier dropped the rest and closed its handle). */
  aborted?: number;
}

/** What starts an import in the worker; with `lmdb` the rows go to an applier worker. */
export interface WorkerInit { brandCode: number; latest: string; maxErrors: number; lmdb?: LmdbImportTarget }

/**
 * Flow control shared by an import's parser and applier (Int32Array over a SharedArrayBuffer):
 * FLOW_COMMITTED movements taken into committed transactions; FLOW_STOP non-zero once the applier
 * failed or the import is aborted (the parser stops waiting for it).
 */
const FLOW_COMMITTED = 0;
const FLOW_STOP = 1;

/** Parser role with an applier: where its encoded batches go and the shared flow counters. */
interface ParserLink { out: MessagePort; flow: SharedArrayBuffer; maxAhead: number }

/**
 * Main → worker: `init` starts a parser (a fresh ImportRowParser; with `link` its movements are
 * encoded and posted to the applier, else answered as movements), then text pieces, then `end`
 * or `abort`. `apply` starts an applier on `from` (LmdbImportSink); `abortApply` makes it drop
 * what is not committed and close its LMDB handle (answered with `aborted` in any case).
 */
type WorkerCommand =
  | { id: number; init: WorkerInit; link?: ParserLink }
  | { id: number; apply: { target: LmdbImportTarget; from: MessagePort; flow: SharedArrayBuffer } }
  | { id: number; text: string }
  | { id: number; bytes: ArrayBuffer }
  | { id: number; end: true }
  | { id: number; abort: true }
  | { id: number; abortApply: true };

/** Messages on the parser → applier port. */
type BatchMessage = { bytes: ArrayBuffer; length: number; count: number } | { end: true };

/** Running from TypeScript sources (`node --import tsx`, tests): the worker needs tsx's loader too. */
const TS_SOURCE = import.meta.url.endsWith('.ts');
const KIND = 'iysgate-import-rows';

/** Idle workers kept for the next import (a worker's start, with its modules, costs 0.1–1 s). */
const idle: Worker[] = [];
const MAX_IDLE = 2;

function startWorker(): Worker {
  const url = new URL(`./import-worker${TS_SOURCE ? '.ts' : '.js'}`, import.meta.url);
  // From sources, tsx's loader is registered in the worker before the .ts entry is imported
  // (Node 20 does not carry `--import tsx` hooks into a worker's entry module).
  const w = TS_SOURCE
    ? new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`, { eval: true, workerData: { kind: KIND } })
    : new Worker(url, { workerData: { kind: KIND } });
  w.unref();
  return w;
}

/** Import workers busy at once, at most (one per core): past it an import parses on the loop, in slices. */
const MAX_ACTIVE = Math.max(1, availableParallelism());
let active = 0;

/** True when another import may take a worker now (else it parses on the request loop in slices). */
export function importWorkerAvailable(): boolean {
  return active < MAX_ACTIVE;
}

/** Starts one idle worker ahead of the first import (server start with `importParser: worker`). */
export function prewarmImportWorker(): void {
  if (idle.length === 0) idle.push(startWorker());
}

/**
 * An import's CSV parsing and row validation (ImportRowParser) on a worker thread (issue 12 item 6:
 * imports starved checks): the request loop only decodes bytes, posts text and applies the
 * movements that come back. With an LMDB target (`init.lmdb`) the work is split across two
 * threads that run at once (issue 11): the parser worker encodes the movements into binary
 * batches (EncodedBatch) and transfers them to an applier worker, which writes them in large
 * transactions (LmdbImportSink) and reports what it committed; the parser stays at most
 * `2 × txnRows` movements ahead of the last commit (a SharedArrayBuffer counter), so memory is
 * bounded and reading the input waits for the disk. Pieces are answered in order; the caller
 * bounds how many are in flight (back-pressure on the request). Workers are reused across imports
 * (up to two kept idle); at most one import per core holds workers at once (20 parallel imports
 * must not start 20 threads).
 */
export class WorkerRowSource {
  readonly #worker: Worker;
  /** The applier (init.lmdb): it writes to LMDB, so it is never terminated inside a transaction. */
  readonly #applier: Worker | null = null;
  readonly #flow: Int32Array | null = null;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #id = 0;
  #failed: Error | null = null;
  #closed = false;
  /** Resolves with the applier's last message of the import (done, or an error). */
  #applierDone: Promise<void> | null = null;
  #applierFinished = false;
  #applierExited = false;
  rows = 0;
  layout: 'daily' | 'upload' = 'daily';
  headerSeen = false;
  readonly #onMessage = (m: RowsMessage) => this.#answer(m);
  readonly #onError = (err: Error) => this.#fail(err);
  readonly #onExit = (code: number) => this.#fail(new Error(`import worker exited (${code})`));
  #onApplied: ((m: AppliedMessage) => void) | null = null;
  #onApplierExit: ((code: number) => void) | null = null;

  /**
   * @param init brandCode, `latest` (the latest consentDate a row may carry), the report's error
   *   budget, and optionally the LMDB store the rows are applied to by the workers themselves
   *   (LmdbStore.importTarget())
   * @param onRows receives each answer's movements (file order; none with `init.lmdb`), row errors
   *   (with the count of all rejected rows; errors past `maxErrors` are counted, not sent) and, with
   *   `init.lmdb`, the outcomes committed (fsynced) since the last call
   */
  constructor(init: WorkerInit, private readonly onRows: (movements: Movement[], errors: ImportError[], rejected: number, committed: OutcomeCounts | null) => void) {
    this.#worker = idle.pop() ?? startWorker();
    active++;
    this.#worker.on('message', this.#onMessage);
    this.#worker.on('error', this.#onError);
    this.#worker.on('exit', this.#onExit);
    let link: ParserLink | undefined;
    if (init.lmdb) {
      const applier = idle.pop() ?? startWorker();
      this.#applier = applier;
      const sab = new SharedArrayBuffer(8);
      this.#flow = new Int32Array(sab);
      const { port1, port2 } = new MessageChannel();
      const txnRows = Math.max(1, init.lmdb.txnRows ?? 250_000);
      link = { out: port1, flow: sab, maxAhead: 2 * txnRows };
      this.#applierDone = new Promise<void>((resolve, reject) => {
        this.#onApplied = (m) => {
          if (m.aborted !== undefined) return; // close() waits for it
          if (m.error !== undefined) { this.#applierFinished = true; const e = new Error(m.error); this.#fail(e); reject(e); return; }
          if (m.committed.applied + m.committed.ignoredOlder + m.committed.duplicate > 0) this.onRows([], [], 0, m.committed);
          if (m.done) { this.#applierFinished = true; resolve(); }
        };
        this.#onApplierExit = (code) => { this.#applierExited = true; const e = new Error(`import applier exited (${code})`); this.#fail(e); reject(e); };
      });
      this.#applierDone.catch(() => undefined); // observed by end()
      applier.on('message', this.#onApplied!);
      applier.on('error', this.#onError);
      applier.on('exit', this.#onApplierExit!);
      applier.postMessage({ id: 0, apply: { target: init.lmdb, from: port2, flow: sab } } as WorkerCommand, [port2]);
    }
    const id = ++this.#id;
    const started = new Promise<void>((resolve, reject) => { this.#waiting.set(id, { resolve, reject }); });
    started.catch(() => undefined); // a failure shows on the next feed
    this.#worker.postMessage({ id, init, ...(link ? { link } : {}) } as WorkerCommand, link ? [link.out] : []);
  }

  #answer(m: RowsMessage): void {
    const w = this.#waiting.get(m.id);
    this.#waiting.delete(m.id);
    this.rows = m.rows; this.layout = m.layout; this.headerSeen = m.headerSeen;
    if (m.fatal) {
      const err = m.fatal.format !== null ? gatewayError('GW_ERR_IMPORT_FORMAT', [m.fatal.format]) : new Error(m.fatal.message);
      this.#fail(err);
      w?.reject(err);
      return;
    }
    this.onRows(m.movements, m.errors, m.rejected, null);
    w?.resolve();
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    for (const w of this.#waiting.values()) w.reject(this.#failed);
    this.#waiting.clear();
  }

  /** Posts a text piece; resolves once it was parsed (its movements handed to `onRows` or to the applier). */
  feed(text: string): Promise<void> { return this.#post({ text }); }

  /**
   * Posts a piece of the UTF-8 input as bytes (decoded on the worker, a character split across
   * pieces included): `chunk` is copied once into an ArrayBuffer transferred to the worker, so the
   * request loop neither decodes nor structured-clones text (issue 11: relaying decoded strings
   * took ~56 % of the loop's CPU during an import). Resolves as `feed`.
   */
  feedBytes(chunk: Uint8Array): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    const bytes = new ArrayBuffer(chunk.length);
    new Uint8Array(bytes).set(chunk);
    return this.#post({ bytes }, [bytes]);
  }

  /** End of input: resolves once the last rows were handed over, and with an applier, committed. */
  async end(): Promise<void> {
    await this.#post({ end: true });
    if (this.#applierDone) await this.#applierDone;
  }

  #post(msg: { text: string } | { bytes: ArrayBuffer } | { end: true }, transfer: ArrayBuffer[] = []): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = ++this.#id;
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ id, ...msg } as WorkerCommand, transfer);
    });
  }

  /**
   * Gives the workers back (idle pool) when the import finished cleanly, else stops them.
   * Idempotent. A parser still busy with pieces of an aborted import is stopped, never reused; an
   * applier is first asked to abort (it finishes the transaction it is in, drops the rest, closes
   * its handle): a worker is never terminated inside an LMDB write transaction (the writer lock
   * would stay taken).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    active--;
    this.#worker.off('message', this.#onMessage);
    this.#worker.off('error', this.#onError);
    this.#worker.off('exit', this.#onExit);
    const failedClean = this.#failed === null || (this.#failed as { code?: string }).code === 'GW_ERR_IMPORT_FORMAT';
    const parserClean = this.#waiting.size === 0 && failedClean;
    const applier = this.#applier;
    if (applier) {
      applier.off('message', this.#onApplied!);
      applier.off('error', this.#onError);
      applier.off('exit', this.#onApplierExit!);
      let clean = !this.#applierExited;
      if (clean && !(this.#applierFinished && this.#failed === null)) {
        // stop the parser waiting for it, then ask it to drop the rest and close its handle
        Atomics.store(this.#flow!, FLOW_STOP, 2);
        Atomics.notify(this.#flow!, FLOW_COMMITTED);
        await new Promise<void>((resolve) => {
          const onMsg = (m: AppliedMessage) => { if (m.aborted !== undefined) { applier.off('message', onMsg); applier.off('exit', onExit); resolve(); } };
          const onExit = () => { clean = false; applier.off('message', onMsg); resolve(); };
          applier.on('message', onMsg);
          applier.on('exit', onExit);
          applier.postMessage({ id: 0, abortApply: true } as WorkerCommand);
        });
      }
      if (clean && idle.length < MAX_IDLE) idle.push(applier);
      else await applier.terminate();
    }
    if (parserClean && (!applier || this.#applierFinished) && idle.length < MAX_IDLE) idle.push(this.#worker);
    else await this.#worker.terminate();
  }
}

/** Nice value of an import worker thread: bulk work yields the CPU to the request loop (issue 12 item 6). */
const WORKER_NICE = 10;

/**
 * Lowers this thread's scheduling priority to nice WORKER_NICE (Linux: setpriority on the thread
 * id applies to that thread only), so that on a busy machine a check on the request loop gets a
 * core before the import does. Never raises a priority; silently a no-op elsewhere.
 */
function lowerThreadPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && getPriority(tid) < WORKER_NICE) setPriority(tid, WORKER_NICE);
  } catch { /* not Linux, or not permitted: same priority as the loop */ }
}

// --- the worker side -------------------------------------------------------------------------
if (!isMainThread && (workerData as { kind?: string } | undefined)?.kind === KIND) {
  lowerThreadPriority();
  // parser role
  let parser: ImportRowParser | null = null;
  let link: ParserLink | null = null;
  let flow: Int32Array | null = null;
  let batch: EncodedBatch | null = null;
  let sent = 0;
  let maxErrors = 0;
  let movements: Movement[] = [];
  let errors: ImportError[] = [];
  let rejected = 0;
  let errorsSent = 0;
  /** Decodes the pieces posted as bytes (a character may span two pieces). */
  let decoder = new StringDecoder('utf8');
  /** Posts the movements encoded so far to the applier; waits while it is too far behind. */
  const ship = () => {
    const b = batch!.take();
    if (b) { link!.out.postMessage(b satisfies BatchMessage, [b.bytes]); sent += b.count; }
    for (;;) {
      const committed = Atomics.load(flow!, FLOW_COMMITTED);
      if (sent - committed <= link!.maxAhead || Atomics.load(flow!, FLOW_STOP) !== 0) return;
      Atomics.wait(flow!, FLOW_COMMITTED, committed, 100);
    }
  };
  const unlink = () => { link?.out.close(); link = null; flow = null; batch = null; };
  const handle = (msg: WorkerCommand) => {
    let fatal: RowsMessage['fatal'];
    try {
      if ('init' in msg) {
        maxErrors = msg.init.maxErrors; errorsSent = 0; sent = 0;
        decoder = new StringDecoder('utf8');
        unlink();
        if (msg.link) { link = msg.link; flow = new Int32Array(msg.link.flow); batch = new EncodedBatch(); }
        const to = batch;
        parser = new ImportRowParser(msg.init.brandCode, msg.init.latest, to ? (m) => to.add(m) : (m) => movements.push(m), (e) => {
          rejected++;
          if (errorsSent < maxErrors) { errors.push(e); errorsSent++; }
        });
      } else if ('text' in msg) {
        const rest = decoder.end();
        parser!.push(rest.length > 0 ? rest + msg.text : msg.text);
        if (link) ship();
      } else if ('bytes' in msg) {
        parser!.push(decoder.write(Buffer.from(msg.bytes)));
        if (link) ship();
      } else if ('end' in msg) {
        const rest = decoder.end();
        if (rest.length > 0) parser!.push(rest);
        parser!.end();
        if (link) { ship(); link.out.postMessage({ end: true } satisfies BatchMessage); unlink(); }
      } else if ('abort' in msg) unlink();
    } catch (err) {
      fatal = { format: parser?.formatDetail ?? null, message: (err as Error).message };
      if (link) { link.out.postMessage({ end: true } satisfies BatchMessage); unlink(); }
    }
    if ('apply' in msg || 'abortApply' in msg) return;
    const out: RowsMessage = {
      id: msg.id, movements, errors, rejected, rows: parser?.rows ?? 0, layout: parser?.layout ?? 'daily',
      headerSeen: parser?.headerSeen ?? false, ...(fatal ? { fatal } : {}),
    };
    parentPort!.postMessage(out);
    movements = []; errors = []; rejected = 0;
  };

  // applier role: batches from the parser's port, commands (abort) from the main thread
  let sink: LmdbImportSink | null = null;
  let from: MessagePort | null = null;
  let applyFlow: Int32Array | null = null;
  const report = (committed: OutcomeCounts, done: boolean, error?: string) => {
    parentPort!.postMessage({ applier: true, committed, done, ...(error !== undefined ? { error } : {}) } satisfies AppliedMessage);
  };
  const stopApplier = async () => {
    from?.close(); from = null;
    const s = sink; sink = null; applyFlow = null;
    await s?.close();
  };
  const onBatch = (m: BatchMessage) => {
    const s = sink;
    if (!s || !applyFlow || Atomics.load(applyFlow, FLOW_STOP) !== 0) return; // aborted: dropped
    try {
      if ('bytes' in m) {
        s.addBatch(m.bytes, m.length, m.count);
        if (s.backlog < s.txnRows) return;
        const c = s.commit(false);
        Atomics.store(applyFlow, FLOW_COMMITTED, s.committedRows);
        Atomics.notify(applyFlow, FLOW_COMMITTED);
        report(c, false);
      } else {
        const c = s.commit(true);
        Atomics.store(applyFlow, FLOW_COMMITTED, s.committedRows);
        void stopApplier().then(() => report(c, true), (err: Error) => report(c, true, err.message));
      }
    } catch (err) {
      Atomics.store(applyFlow, FLOW_STOP, 1);
      Atomics.notify(applyFlow, FLOW_COMMITTED);
      void stopApplier().catch(() => undefined).then(() => report({ applied: 0, ignoredOlder: 0, duplicate: 0 }, true, (err as Error).message));
    }
  };

  // one message at a time, in order (closing an LMDB handle is asynchronous)
  let chain = Promise.resolve();
  parentPort!.on('message', (msg: WorkerCommand) => {
    chain = chain.then(async () => {
      if ('apply' in msg) {
        await stopApplier();
        try {
          sink = new LmdbImportSink(msg.apply.target);
        } catch (err) {
          report({ applied: 0, ignoredOlder: 0, duplicate: 0 }, true, (err as Error).message);
          msg.apply.from.close();
          return;
        }
        applyFlow = new Int32Array(msg.apply.flow);
        from = msg.apply.from;
        from.on('message', onBatch);
        return;
      }
      if ('abortApply' in msg) {
        await stopApplier().catch(() => undefined);
        parentPort!.postMessage({ applier: true, committed: { applied: 0, ignoredOlder: 0, duplicate: 0 }, done: true, aborted: msg.id } satisfies AppliedMessage);
        return;
      }
      handle(msg);
    });
  });
}
