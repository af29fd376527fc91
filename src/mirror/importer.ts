import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { formatIysDate } from '../domain/turkish-time.ts';
import { maskPii } from '../plugins/redact.ts';
import type { Movement } from '../domain/types.ts';
import { gatewayError } from '../errors.ts';
import type { ApplyOutcome, ConsentStore } from './consent-store.ts';
import { CsvLineReader } from './csv-lines.ts';
import { LoopSlice, feedSliced } from './loop-slice.ts';
import { movementFromFields } from './movement-rules.ts';

/** Column sets of the two İYS layouts this importer reads (API.md `/v1/mirror/import`). */
export const DAILY_COLUMNS = ['creationDate', 'transactionId', 'recipient', 'recipientType', 'type', 'status', 'consentDate', 'source'] as const;
export const UPLOAD_COLUMNS = ['recipient', 'type', 'source', 'status', 'consentDate', 'recipientType'] as const;
const UPLOAD_OPTIONAL = ['retailerCode', 'retailerAccess'] as const;

/** Row-level error codes (listed in the README's error table; they never stop an import). */
export const IMPORT_ROW_CODES = {
  GW_ERR_IMPORT_ROW_SHAPE: 'row does not have the header\'s columns, or is not valid CSV',
  GW_ERR_IMPORT_INVALID_RECIPIENT: 'recipient cannot be normalized',
  GW_ERR_IMPORT_INVALID_FIELD: 'a field holds a value İYS never produces',
} as const;
export type ImportRowCode = keyof typeof IMPORT_ROW_CODES;

export interface ImportError { line: number; code: ImportRowCode; message: string; field?: string }

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
}


/**
 * Streams a CSV of İYS records into the mirror. The header row selects the layout (daily movement
 * file or upload layout, columns in any order). Each row is validated; a bad row is counted in
 * `rejected` with a coded error and never stops the import. Movements are applied in file order
 * in chunks of `chunkRows`; up to `chunksInFlight` chunks are made durable while the next is
 * parsed, and reading waits for them (back-pressure on the input stream). Lines are split by
 * csv-lines.ts. Parsing and applying run in time slices (`opts.slice`, 2 ms) with yields to the
 * event loop between them.
 *
 * @throws GW_ERR_IMPORT_FORMAT (400) when the header matches neither layout; stream errors
 *   (client abort, body over the limit) propagate.
 */
export async function importCsv(input: Readable, opts: ImportOptions): Promise<ImportReport> {
  const chunkRows = opts.chunkRows ?? 5000;
  const maxErrors = opts.maxErrors ?? 100;
  const report: ImportReport = { layout: 'daily', rows: 0, applied: 0, ignoredOlder: 0, duplicate: 0, rejected: 0, errors: [] };
  const addError = (e: ImportError) => { report.rejected++; if (report.errors.length < maxErrors) report.errors.push(e); };

  let cols: Columns | null = null;
  // the latest date a row may carry: İYS dates are Turkish wall time (UTC+03:00), 10 min of skew
  const latest = formatIysDate(new Date((opts.now ?? Date.now)() + 10 * 60_000));
  let width = 0;
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
  const reader = new CsvLineReader((rec, line) => {
    if (cols === null) {
      const layout = detectLayout(rec);
      if (layout === null) throw gatewayError('GW_ERR_IMPORT_FORMAT', [maskPii(rec.join(',').slice(0, 200))]);
      if (new Set(rec).size !== rec.length) throw gatewayError('GW_ERR_IMPORT_FORMAT', ['a column appears twice']);
      report.layout = layout;
      cols = columnsOf(Object.fromEntries(rec.map((h, i) => [h, i])));
      width = rec.length;
      return;
    }
    report.rows++;
    if (rec.length !== width) {
      addError({ line, code: 'GW_ERR_IMPORT_ROW_SHAPE', message: `expected ${width} columns, got ${rec.length}` });
      return;
    }
    const m = toMovement(rec, cols, opts.brandCode, line, addError, latest, report.layout);
    if (m) batch.push(m);
  }, (line, message) => {
    report.rows++;
    addError({ line, code: 'GW_ERR_IMPORT_ROW_SHAPE', message });
  });

  const decoder = new StringDecoder('utf8');
  const push = (text: string) => reader.push(text);
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      await feedSliced(typeof chunk === 'string' ? chunk : decoder.write(chunk), push, slice);
      if (batch.length >= chunkRows) await flush();
    }
    reader.push(decoder.end());
    reader.end();
  } catch (err) {
    input.resume();
    await drain().catch(() => undefined);
    throw err;
  }
  if (cols === null) throw gatewayError('GW_ERR_IMPORT_FORMAT', ['empty body']);
  await flush();
  await drain();
  return report;
}

function detectLayout(header: string[]): 'daily' | 'upload' | null {
  const set = new Set(header);
  if (DAILY_COLUMNS.every((c) => set.has(c)) && header.length === DAILY_COLUMNS.length) return 'daily';
  if (UPLOAD_COLUMNS.every((c) => set.has(c))
    && header.every((h) => (UPLOAD_COLUMNS as readonly string[]).includes(h) || (UPLOAD_OPTIONAL as readonly string[]).includes(h))) return 'upload';
  return null;
}

/** Column positions of a header (-1 = absent), resolved once per import. */
interface Columns {
  recipient: number; type: number; status: number; recipientType: number; source: number; consentDate: number;
  creationDate: number; transactionId: number; retailerCode: number; retailerAccess: number;
}

function columnsOf(idx: Record<string, number>): Columns {
  const at = (c: string) => idx[c] ?? -1;
  return {
    recipient: at('recipient'), type: at('type'), status: at('status'), recipientType: at('recipientType'), source: at('source'),
    consentDate: at('consentDate'), creationDate: at('creationDate'), transactionId: at('transactionId'),
    retailerCode: at('retailerCode'), retailerAccess: at('retailerAccess'),
  };
}

const cell = (rec: string[], i: number): string => (i < 0 ? '' : (rec[i] ?? ''));

/** Row → Movement (rules: movement-rules.ts), or an error recorded through `addError`. */
function toMovement(
  rec: string[], cols: Columns, brandCode: number, line: number, addError: (e: ImportError) => void,
  latest: string, layout: 'daily' | 'upload',
): Movement | null {
  const r = movementFromFields(brandCode, {
    recipient: cell(rec, cols.recipient), type: cell(rec, cols.type), status: cell(rec, cols.status),
    recipientType: cell(rec, cols.recipientType), source: cell(rec, cols.source), consentDate: cell(rec, cols.consentDate),
    creationDate: cell(rec, cols.creationDate), transactionId: cell(rec, cols.transactionId),
    retailerCode: cell(rec, cols.retailerCode), retailerAccess: cell(rec, cols.retailerAccess),
  }, latest, layout);
  if ('field' in r) return rowError(addError, line, r.field, r.message, r.recipient ? 'GW_ERR_IMPORT_INVALID_RECIPIENT' : 'GW_ERR_IMPORT_INVALID_FIELD');
  return r;
}

function rowError(addError: (e: ImportError) => void, line: number, field: string, message: string, code: ImportRowCode = 'GW_ERR_IMPORT_INVALID_FIELD'): null {
  addError({ line, code, message, field });
  return null;
}
