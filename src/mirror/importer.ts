import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { normalizeIysRecipient } from '../domain/recipient.ts';
import { formatIysDate, isIysDate } from '../domain/turkish-time.ts';
import { maskPii } from '../plugins/redact.ts';
import {
  CONSENT_SOURCES, CONSENT_STATUSES, CONSENT_TYPES, RECIPIENT_TYPES,
  type ConsentSource, type ConsentStatus, type ConsentType, type Movement, type RecipientType,
} from '../domain/types.ts';
import { gatewayError } from '../errors.ts';
import type { ConsentStore } from './consent-store.ts';
import { CsvLineReader } from './csv-lines.ts';

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
  /** Errors kept in the report. Default 100 (API.md). */
  maxErrors?: number;
  /** Called after each chunk with rows read so far (progress bars). */
  onProgress?: (rows: number) => void;
  /** Clock (epoch ms): dates after now + 10 min are refused (İYS never produces them, H162). */
  now?: () => number;
}

const TYPE_SET = new Set<string>(CONSENT_TYPES);
const TX_RE = /^[0-9A-Za-z-]*$/;
/** İYS's first possible consentDate (H156) and HS_2015's fixed one (H155). */
const IYS_EPOCH = '2015-05-01 00:00:00';
const STATUS_SET = new Set<string>(CONSENT_STATUSES);
const RT_SET = new Set<string>(RECIPIENT_TYPES);
const SOURCE_SET = new Set<string>(CONSENT_SOURCES);

/**
 * Streams a CSV of İYS records into the mirror. The header row selects the layout (daily movement
 * file or upload layout, columns in any order). Each row is validated; a bad row is counted in
 * `rejected` with a coded error and never stops the import. Movements are applied in file order
 * in chunks of `chunkRows`; one chunk is made durable while the next is parsed, and reading waits
 * for it (back-pressure on the input stream). Lines are split by csv-lines.ts.
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
  let inFlight: Promise<void> | null = null;
  // One chunk is applied (journal fsync) while the next is parsed: at most one in flight.
  const flush = async () => {
    if (inFlight) await inFlight;
    inFlight = null;
    if (batch.length === 0) return;
    const chunk = batch;
    batch = [];
    inFlight = opts.store.apply(chunk).then((outcomes) => {
      for (const o of outcomes) report[o]++;
      opts.onProgress?.(report.rows);
    });
  };
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
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      reader.push(typeof chunk === 'string' ? chunk : decoder.write(chunk));
      if (batch.length >= chunkRows) await flush();
    }
    reader.push(decoder.end());
    reader.end();
  } catch (err) {
    input.resume();
    if (inFlight) await (inFlight as Promise<void>).catch(() => undefined);
    throw err;
  }
  if (cols === null) throw gatewayError('GW_ERR_IMPORT_FORMAT', ['empty body']);
  await flush();
  if (inFlight) await inFlight;
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

/** Row → Movement, or an error recorded through `addError` (no closures per row: hot path). */
function toMovement(
  rec: string[], cols: Columns, brandCode: number, line: number, addError: (e: ImportError) => void,
  latest: string, layout: 'daily' | 'upload',
): Movement | null {
  const type = cell(rec, cols.type);
  if (!TYPE_SET.has(type)) return rowError(addError, line, 'type', `type must be one of ${CONSENT_TYPES.join('|')}`);
  const status = cell(rec, cols.status);
  if (!STATUS_SET.has(status)) return rowError(addError, line, 'status', 'status must be ONAY or RET');
  const recipientType = cell(rec, cols.recipientType) || 'BIREYSEL';
  if (!RT_SET.has(recipientType)) return rowError(addError, line, 'recipientType', 'recipientType must be BIREYSEL or TACIR');
  const source = cell(rec, cols.source);
  if (source !== '' && !SOURCE_SET.has(source)) return rowError(addError, line, 'source', 'unknown source');
  if (source === '' && recipientType !== 'TACIR') return rowError(addError, line, 'source', 'source is required for BIREYSEL records');
  if (layout === 'upload' && source.startsWith('IYS_')) return rowError(addError, line, 'source', 'İYS-side sources (IYS_*) never appear in the upload layout');
  if (source === 'HS_KARAR' && status !== 'RET') return rowError(addError, line, 'status', 'HS_KARAR is only used with RET (H408)');
  const consentDate = cell(rec, cols.consentDate);
  if (consentDate !== '' && !isIysDate(consentDate)) return rowError(addError, line, 'consentDate', 'consentDate must be YYYY-MM-DD HH:mm:ss');
  if (consentDate === '' && recipientType !== 'TACIR') return rowError(addError, line, 'consentDate', 'consentDate is required for BIREYSEL records');
  if (consentDate !== '') {
    if (consentDate > latest) return rowError(addError, line, 'consentDate', 'consentDate is in the future (H162): a future date would outrank every later refusal');
    if (consentDate < IYS_EPOCH) return rowError(addError, line, 'consentDate', 'consentDate before 2015-05-01 00:00:00 (H156)');
    if (source === 'HS_2015' && consentDate !== IYS_EPOCH) return rowError(addError, line, 'consentDate', 'HS_2015 consents carry exactly 2015-05-01 00:00:00 (H155)');
  }
  const creationDate = cell(rec, cols.creationDate);
  if (creationDate !== '' && !isIysDate(creationDate)) return rowError(addError, line, 'creationDate', 'creationDate must be YYYY-MM-DD HH:mm:ss');
  if (creationDate > latest) return rowError(addError, line, 'creationDate', 'creationDate is in the future');
  const tx = cell(rec, cols.transactionId);
  if (tx.length > 128 || !TX_RE.test(tx)) return rowError(addError, line, 'transactionId', 'transactionId must be up to 128 letters, digits or dashes');
  // Shape decides phone vs e-mail: İYS files have been seen holding phone numbers under EPOSTA.
  const raw = cell(rec, cols.recipient);
  const n = normalizeIysRecipient(raw, raw.includes('@') ? 'EPOSTA' : type === 'EPOSTA' ? 'ARAMA' : (type as ConsentType));
  if (!n.ok) return rowError(addError, line, 'recipient', n.message, 'GW_ERR_IMPORT_INVALID_RECIPIENT');
  if (!n.registrable) return rowError(addError, line, 'recipient', 'address İYS cannot register (H120)', 'GW_ERR_IMPORT_INVALID_RECIPIENT');
  const m: Movement = {
    brandCode, recipient: n.canonical, recipientType: recipientType as RecipientType, type: type as ConsentType,
    status: status as ConsentStatus, source: (source || null) as ConsentSource | null,
    consentDate: consentDate || null, creationDate: creationDate || null,
    transactionId: tx || null, noncanonical: n.noncanonical,
  };
  const rc = cell(rec, cols.retailerCode);
  if (rc !== '') {
    if (!/^\d{1,12}$/.test(rc)) return rowError(addError, line, 'retailerCode', 'retailerCode must be an integer');
    m.retailerCode = Number(rc);
  }
  const ra = cell(rec, cols.retailerAccess);
  if (ra !== '') {
    const list = ra.split(/[;|\s]+/).filter(Boolean);
    if (!list.every((x) => /^\d{1,12}$/.test(x))) return rowError(addError, line, 'retailerAccess', 'retailerAccess must be integers separated by ; or |');
    m.retailerAccess = list.map(Number);
  }
  return m;
}

function rowError(addError: (e: ImportError) => void, line: number, field: string, message: string, code: ImportRowCode = 'GW_ERR_IMPORT_INVALID_FIELD'): null {
  addError({ line, code, message, field });
  return null;
}
