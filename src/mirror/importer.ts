import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { formatIysDate } from '../domain/turkish-time.ts';
import type { Movement } from '../domain/types.ts';
import { gatewayError } from '../errors.ts';
import type { ApplyOutcome, ConsentStore } from './consent-store.ts';
import { ImportRowParser, type ImportError } from './import-rows.ts';
import { WorkerRowSource, importWorkerAvailable } from './import-worker.ts';
import type { LmdbImportTarget } from './lmdb-import-sink.ts';
import { LoopSlice, feedSliced } from './loop-slice.ts';

export { DAILY_COLUMNS, UPLOAD_COLUMNS, IMPORT_ROW_CODES, type ImportRowCode, type ImportError } from './import-rows.ts';

/** Summary of an import (API.md). */
export interface ImportReport {
  layout: 'daily' | 'upload';
  rows: number;
  applied: number;
  ignoredOlder: number;
  duplicate: number;
  rejected: number;
  /** The first `maxErrors` row errors. */
  errors: ImportError[];
}

export interface ImportOptions {
  brandCode: number;
  store: ConsentStore;
  /** Movements applied per store call (one durable journal write each). Default 5,000. */
  chunkRows?: number;
  /**
   * Chunks handed to the store and not yet durable, at most (reading waits past it: back-pressure).
   * Stores apply calls in call order, so file order holds; more than one lets a store group-commit
   * several chunks in one transaction while the next ones are parsed (LMDB). Default 4.
   */
  chunksInFlight?: number;
  /** Errors kept in the report. Default 100 (API.md). */
  maxErrors?: number;
  /** Called after each chunk with rows read so far (progress bars). */
  onProgress?: (rows: number) => void;
  /** Clock (epoch ms): dates after now + 10 min are refused (İYS never produces them, H162). */
  now?: () => number;
  /** Time slicing of parsing and applying on the event loop. Default: a 2 ms LoopSlice. */
  slice?: LoopSlice;
  /** Movements per store.apply call within a chunk (yields between calls). Default 250. */
  applySliceRows?: number;
  /**
   * Where CSV parsing and row validation run: `loop` (this event loop, in `slice`s) or `worker`
   * (a worker thread, import-worker.ts; on the loop when every worker is busy). Default `loop`.
   */
  parser?: 'loop' | 'worker';
  /**
   * With `parser: 'worker'` and an LMDB store: the worker applies the rows itself in transactions of
   * at most this many movements (default 250,000) and `workerTxnMs` ms (default 1,000); a refusal
   * written meanwhile waits for the transaction in progress (LMDB has one writer at a time).
   */
  workerTxnRows?: number;
  workerTxnMs?: number;
}


/**
 * Streams a CSV of İYS records into the mirror. The header row selects the layout (daily movement
 * file or upload layout, columns in any order). Each row is validated; a bad row is counted in
 * `rejected` with a coded error and never stops the import. Movements are applied in file order
 * in chunks of `chunkRows`; up to `chunksInFlight` chunks are made durable while the next is
 * parsed, and reading waits for them (back-pressure on the input stream). Lines are split by
 * csv-lines.ts. Parsing and validation run on a worker thread (`opts.parser: 'worker'`) or on this
 * loop; either way applying, and parsing on the loop, run in time slices (`opts.slice`, 2 ms) with
 * yields to the event loop between them (issue 12 item 6).
 *
 * @throws GW_ERR_IMPORT_FORMAT (400) when the header matches neither layout; stream errors
 *   (client abort, body over the limit) propagate.
 */
export async function importCsv(input: Readable, opts: ImportOptions): Promise<ImportReport> {
  const chunkRows = opts.chunkRows ?? 5000;
  const maxErrors = opts.maxErrors ?? 100;
  const report: ImportReport = { layout: 'daily', rows: 0, applied: 0, ignoredOlder: 0, duplicate: 0, rejected: 0, errors: [] };
  const addError = (e: ImportError) => { report.rejected++; if (report.errors.length < maxErrors) report.errors.push(e); };

  // the latest date a row may carry: İYS dates are Turkish wall time (UTC+03:00), 10 min of skew
  const latest = formatIysDate(new Date((opts.now ?? Date.now)() + 10 * 60_000));
  let batch: Movement[] = [];
  // Parsing and applying share the request loop in slices (loop-slice.ts): checks wait at most
  // about one slice behind an import (issue 12 item 6).
  const slice = opts.slice ?? new LoopSlice();
  const applyRows = opts.applySliceRows ?? 250;
  // Chunks are applied (made durable) while the next ones are parsed: at most maxInFlight at once.
  // A chunk goes to the store in `applyRows` pieces with yields between: the pieces' writes are
  // group-committed together (journal fsync, LMDB transaction), and no piece holds the loop long.
  const maxInFlight = Math.max(1, opts.chunksInFlight ?? 4);
  const pending: Promise<void>[] = [];
  let failed: unknown = null;
  const flush = async () => {
    while (pending.length >= maxInFlight) await pending[0];
    if (failed !== null) throw failed;
    if (batch.length === 0) return;
    const chunk = batch;
    batch = [];
    const rowsSoFar = report.rows;
    const parts: Promise<ApplyOutcome[]>[] = [];
    for (let i = 0; i < chunk.length; i += applyRows) {
      const part = opts.store.apply(i === 0 && chunk.length <= applyRows ? chunk : chunk.slice(i, i + applyRows));
      part.catch(() => undefined); // observed below; a rejection while yielding is not unhandled
      parts.push(part);
      if (slice.due) await slice.yield();
    }
    const p: Promise<void> = Promise.all(parts).then((all) => {
      for (const outcomes of all) for (const o of outcomes) report[o]++;
      opts.onProgress?.(rowsSoFar);
    }, (err: unknown) => { failed ??= err; }).finally(() => { pending.splice(pending.indexOf(p), 1); });
    pending.push(p);
  };
  const drain = async () => { while (pending.length > 0) await pending[0]; if (failed !== null) throw failed; };
  // rows: parsed and validated on this loop in slices, or on a worker thread (import-worker.ts)
  const onWorker = opts.parser === 'worker' && importWorkerAvailable();
  // an LMDB store lets the worker apply the rows too, in its own large transactions: the request
  // loop then only decodes and posts text (lmdb-import-sink.ts)
  const direct = onWorker ? directTarget(opts.store) : null;
  const source: RowSource = onWorker
    ? new WorkerRowSource({ brandCode: opts.brandCode, latest, maxErrors, ...(direct ? { lmdb: { ...direct.target, txnRows: opts.workerTxnRows, txnMs: opts.workerTxnMs } } : {}) }, (movements, errors, rejected, committed) => {
      for (const m of movements) batch.push(m);
      report.rejected += rejected;
      for (const e of errors) if (report.errors.length < maxErrors) report.errors.push(e);
      if (committed && committed.applied + committed.ignoredOlder + committed.duplicate > 0) {
        direct!.store.sawExternalCommit();
        report.applied += committed.applied; report.ignoredOlder += committed.ignoredOlder; report.duplicate += committed.duplicate;
        opts.onProgress?.(source.rows);
      }
    })
    : loopSource(new ImportRowParser(opts.brandCode, latest, (m) => { batch.push(m); }, addError), slice);
  // the worker gets the next piece while the last one is parsed (two in flight)
  const depth = onWorker ? 2 : 1;
  const feeding: Promise<void>[] = [];

  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      // to a worker as bytes (decoded there): the loop neither decodes nor copies text
      const fed = typeof chunk === 'string' ? source.feed(chunk) : source.feedBytes ? source.feedBytes(chunk) : source.feed(decoder.write(chunk));
      fed.catch(() => undefined); // awaited below
      feeding.push(fed);
      if (feeding.length >= depth) await feeding.shift();
      report.rows = source.rows;
      if (batch.length >= chunkRows) await flush();
    }
    for (const f of feeding.splice(0)) await f;
    await source.feed(decoder.end());
    await source.end();
  } catch (err) {
    input.resume();
    await source.close();
    await drain().catch(() => undefined);
    throw err;
  }
  await source.close();
  report.rows = source.rows;
  report.layout = source.layout;
  if (!source.headerSeen) throw gatewayError('GW_ERR_IMPORT_FORMAT', ['empty body']);
  await flush();
  await drain();
  return report;
}

/** A store whose mirror the import worker may write itself (LmdbStore), with where to write. */
function directTarget(store: ConsentStore): { store: { sawExternalCommit(): void }; target: LmdbImportTarget } | null {
  const s = store as Partial<{ importTarget(): LmdbImportTarget | null; sawExternalCommit(): void }>;
  const target = typeof s.importTarget === 'function' && typeof s.sawExternalCommit === 'function' ? s.importTarget() : null;
  return target ? { store: s as { sawExternalCommit(): void }, target } : null;
}

/** Where an import's rows come from: the same parser on this loop or on a worker. */
interface RowSource {
  feed(text: string): Promise<void>;
  /** UTF-8 bytes decoded by the source itself (a worker), when it can. */
  feedBytes?(chunk: Uint8Array): Promise<void>;
  end(): Promise<void>;
  close(): Promise<void>;
  readonly rows: number;
  readonly layout: 'daily' | 'upload';
  readonly headerSeen: boolean;
}

function loopSource(parser: ImportRowParser, slice: LoopSlice): RowSource {
  const push = (text: string) => parser.push(text);
  return {
    feed: (text) => feedSliced(text, push, slice),
    end: async () => { parser.end(); },
    close: async () => undefined,
    get rows() { return parser.rows; },
    get layout() { return parser.layout; },
    get headerSeen() { return parser.headerSeen; },
  };
}
