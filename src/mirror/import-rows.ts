import { maskPii } from '../plugins/redact.ts';
import type { Movement } from '../domain/types.ts';
import { gatewayError } from '../errors.ts';
import { CsvLineReader } from './csv-lines.ts';
import { movementFromFields } from './movement-rules.ts';

/** Column sets of the two İYS layouts an import reads (API.md `/v1/mirror/import`). */
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

/**
 * CSV text of an import → validated movements, synchronously (no I/O; runs on the request loop in
 * slices or in import-worker.ts). The header row selects the layout (daily movement file or
 * upload layout, columns in any order); each row becomes a Movement (`onMovement`) or a coded row
 * error (`onError`). Lines are split by csv-lines.ts.
 * @throws GW_ERR_IMPORT_FORMAT (400) from `push` when the header matches neither layout or names a
 *   column twice; `formatDetail` keeps the message argument (the worker sends it across).
 */
export class ImportRowParser {
  layout: 'daily' | 'upload' = 'daily';
  /** Data rows seen (header excluded), valid or not. */
  rows = 0;
  /** The header was read. */
  headerSeen = false;
  /** Argument of the GW_ERR_IMPORT_FORMAT thrown, if any. */
  formatDetail: string | null = null;
  readonly #reader: CsvLineReader;

  /**
   * @param latest the latest date a row may carry (`YYYY-MM-DD HH:mm:ss`, Turkish time): İYS never
   *   produces later ones (H162)
   */
  constructor(brandCode: number, latest: string, onMovement: (m: Movement) => void, onError: (e: ImportError) => void) {
    let cols: Columns | null = null;
    let width = 0;
    const format = (detail: string) => { this.formatDetail = detail; return gatewayError('GW_ERR_IMPORT_FORMAT', [detail]); };
    this.#reader = new CsvLineReader((rec, line) => {
      if (cols === null) {
        const layout = detectLayout(rec);
        if (layout === null) throw format(maskPii(rec.join(',').slice(0, 200)));
        if (new Set(rec).size !== rec.length) throw format('a column appears twice');
        this.layout = layout;
        this.headerSeen = true;
        cols = columnsOf(Object.fromEntries(rec.map((h, i) => [h, i])));
        width = rec.length;
        return;
      }
      this.rows++;
      if (rec.length !== width) {
        onError({ line, code: 'GW_ERR_IMPORT_ROW_SHAPE', message: `expected ${width} columns, got ${rec.length}` });
        return;
      }
      const m = toMovement(rec, cols, brandCode, line, onError, latest, this.layout);
      if (m) onMovement(m);
    }, (line, message) => {
      this.rows++;
      onError({ line, code: 'GW_ERR_IMPORT_ROW_SHAPE', message });
    });
  }

  /** Feeds decoded text (any split). */
  push(text: string): void { this.#reader.push(text); }

  /** End of input. */
  end(): void { this.#reader.end(); }
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
