import { readlinkSync } from 'node:fs';
import { availableParallelism, getPriority, setPriority } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Movement } from '../domain/types.ts';
import { gatewayError } from '../errors.ts';
import { ImportRowParser, type ImportError } from './import-rows.ts';
import { LmdbImportSink, type LmdbImportTarget, type OutcomeCounts } from './lmdb-import-sink.ts';

/** What the worker answers for each text piece (and at the end). */
interface RowsMessage {
  id: number;
  /** Valid rows as movements, for the caller to apply (no `lmdb` target at init). */
  movements: Movement[];
  /** With an `lmdb` target: outcomes the worker committed (fsynced) since its last answer. */
  committed: OutcomeCounts | null;
  /** Row errors, at most the report's remaining budget; `rejected` counts them all. */
  errors: ImportError[];
  rejected: number;
  rows: number;
  layout: 'daily' | 'upload';
  headerSeen: boolean;
  /** Set when the parser threw: GW_ERR_IMPORT_FORMAT's argument, or another error's message. */
  fatal?: { format: string | null; message: string };
}

/** What starts an import in the worker; with `lmdb` the worker applies the rows itself. */
export interface WorkerInit { brandCode: number; latest: string; maxErrors: number; lmdb?: LmdbImportTarget }

/**
 * Main → worker: `init` starts an import (a fresh parser), then text pieces, then `end` (commit
 * the rest) or `abort` (drop what is not committed). Both close the worker's LMDB handle.
 */
type WorkerCommand =
  | { id: number; init: WorkerInit }
  | { id: number; text: string }
  | { id: number; end: true }
  | { id: number; abort: true };

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
 * movements that come back. Pieces are answered in order; the caller bounds how many are in
 * flight (back-pressure on the request). Workers are reused across imports (up to two kept idle);
 * at most one per core is busy at once (20 parallel imports must not start 20 threads).
 */
export class WorkerRowSource {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #id = 0;
  #failed: Error | null = null;
  #closed = false;
  rows = 0;
  layout: 'daily' | 'upload' = 'daily';
  headerSeen = false;
  readonly #onMessage = (m: RowsMessage) => this.#answer(m);
  readonly #onError = (err: Error) => this.#fail(err);
  readonly #onExit = (code: number) => { this.#exited = true; this.#fail(new Error(`import worker exited (${code})`)); };

  /** The worker writes to LMDB itself (init.lmdb): it must never be terminated inside a transaction. */
  readonly #writes: boolean;
  #exited = false;

  /**
   * @param init brandCode, `latest` (the latest consentDate a row may carry), the report's error
   *   budget, and optionally the LMDB store the worker applies the rows to itself (LmdbStore.importTarget())
   * @param onRows receives each answer's movements (file order; none with `init.lmdb`), row errors
   *   (with the count of all rejected rows; errors past `maxErrors` are counted, not sent) and, with
   *   `init.lmdb`, the outcomes committed since the last answer
   */
  constructor(init: WorkerInit, private readonly onRows: (movements: Movement[], errors: ImportError[], rejected: number, committed: OutcomeCounts | null) => void) {
    this.#writes = init.lmdb !== undefined;
    this.#worker = idle.pop() ?? startWorker();
    active++;
    this.#worker.on('message', this.#onMessage);
    this.#worker.on('error', this.#onError);
    this.#worker.on('exit', this.#onExit);
    void this.#post({ init }).catch(() => undefined); // a failure shows on the next feed
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
    this.onRows(m.movements, m.errors, m.rejected, m.committed);
    w?.resolve();
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    for (const w of this.#waiting.values()) w.reject(this.#failed);
    this.#waiting.clear();
  }

  /** Posts a text piece; resolves once its movements were handed to `onRows`. */
  feed(text: string): Promise<void> { return this.#post({ text }); }

  /** End of input: resolves once the last rows were handed over. */
  end(): Promise<void> { return this.#post({ end: true }); }

  #post(msg: { init: WorkerInit } | { text: string } | { end: true }): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = ++this.#id;
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ id, ...msg } as WorkerCommand);
    });
  }

  /**
   * Gives the worker back (idle pool) when it finished cleanly, else stops it. Idempotent. A worker
   * still busy with pieces of an aborted import is stopped, never reused; one that writes to LMDB
   * is first asked to abort (it finishes the transaction it is in, drops the rest, closes its handle).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    active--;
    this.#worker.off('message', this.#onMessage);
    this.#worker.off('error', this.#onError);
    this.#worker.off('exit', this.#onExit);
    let clean = this.#waiting.size === 0 && (this.#failed === null || (this.#failed as { code?: string }).code === 'GW_ERR_IMPORT_FORMAT');
    if (!clean && this.#writes && !this.#exited) {
      // never terminate a worker that may be inside an LMDB write transaction (the writer lock
      // would stay taken): ask it to drop the rest and close its handle, then it is clean
      const id = ++this.#id;
      await new Promise<void>((resolve) => {
        const onMsg = (m: RowsMessage) => { if (m.id === id) { this.#worker.off('message', onMsg); this.#worker.off('exit', onExit); resolve(); } };
        const onExit = () => { this.#exited = true; this.#worker.off('message', onMsg); resolve(); };
        this.#worker.on('message', onMsg);
        this.#worker.on('exit', onExit);
        this.#worker.postMessage({ id, abort: true } as WorkerCommand);
      });
      clean = !this.#exited;
    }
    if (clean && idle.length < MAX_IDLE) idle.push(this.#worker);
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
  let parser: ImportRowParser | null = null;
  let sink: LmdbImportSink | null = null;
  let maxErrors = 0;
  let movements: Movement[] = [];
  let errors: ImportError[] = [];
  let rejected = 0;
  let sent = 0;
  const closeSink = async () => { const s = sink; sink = null; await s?.close(); };
  const handle = async (msg: WorkerCommand) => {
    let fatal: RowsMessage['fatal'];
    let committed: OutcomeCounts | null = null;
    try {
      if ('init' in msg) {
        maxErrors = msg.init.maxErrors; sent = 0;
        await closeSink();
        const to = msg.init.lmdb ? (sink = new LmdbImportSink(msg.init.lmdb)) : null;
        parser = new ImportRowParser(msg.init.brandCode, msg.init.latest, to ? (m) => to.add(m) : (m) => movements.push(m), (e) => {
          rejected++;
          if (sent < maxErrors) { errors.push(e); sent++; }
        });
      } else if ('text' in msg) {
        parser!.push(msg.text);
        committed = sink?.commit(false) ?? null;
      } else if ('end' in msg) {
        parser!.end();
        committed = sink?.commit(true) ?? null;
        await closeSink();
      } else await closeSink(); // abort: what is not committed is dropped
    } catch (err) {
      fatal = { format: parser?.formatDetail ?? null, message: (err as Error).message };
      await closeSink().catch(() => undefined);
    }
    const out: RowsMessage = {
      id: msg.id, movements, committed, errors, rejected, rows: parser?.rows ?? 0, layout: parser?.layout ?? 'daily',
      headerSeen: parser?.headerSeen ?? false, ...(fatal ? { fatal } : {}),
    };
    parentPort!.postMessage(out);
    movements = []; errors = []; rejected = 0;
  };
  // one message at a time, in order (closing an LMDB handle is asynchronous)
  let chain = Promise.resolve();
  parentPort!.on('message', (msg: WorkerCommand) => { chain = chain.then(() => handle(msg)); });
}
