import { renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { isWithinUploadWindow } from '../domain/calendar.ts';
import { normalizeRecipient } from '../domain/recipient.ts';
import type { ConsentStatus, ConsentType, RecipientType } from '../domain/types.ts';
import type { ConsentStore } from '../mirror/consent-store.ts';
import { CsvLineReader } from '../mirror/csv-lines.ts';
import { readStateFileSync, writeStateFileSync } from '../mirror/append-log.ts';
import { LoopSlice, feedSliced } from '../mirror/loop-slice.ts';
import type { IysClient } from './client.ts';
import { classifyBatchResults } from './client.ts';
import { transitionError, validateConsent, type ConsentInput } from './consent-rules.ts';

/** Per-line result of an upload (the report file has one CSV line per input row). */
export interface UploadLine {
  line: number;
  recipient: string;
  /** invalid: refused locally (İYS would refuse it); registered; failed: İYS refused it; pending: not final yet. */
  result: 'invalid' | 'registered' | 'failed' | 'pending';
  code?: string;
  message?: string;
  transactionId?: string;
}

export interface UploadSummary {
  rows: number; invalid: number; sent: number; registered: number; failed: number; pending: number;
  /** Seconds spent validating, and rows/s of local validation. */
  validateSeconds: number; validateRowsPerSecond: number;
}

interface Chunk {
  lines: number[];
  /** planned; submitting: intent written, outcome unknown; submitted: requestId known; final: every line has a result. */
  state: 'planned' | 'submitting' | 'submitted' | 'final';
  requestId?: string;
}

interface UploadState { brandCode: number; chunks: Chunk[]; results: Record<number, UploadLine> }

export interface BulkUploadOptions {
  brandCode: number;
  client: IysClient;
  /** The mirror, for İYS's state rules (H175/H174/H178); null skips them. */
  store: ConsentStore | null;
  /** Resume file (append-log.ts state file, fsynced at every step; a plain JSON file of the earlier release is read). */
  statePath: string;
  /** Per-line report (CSV). */
  reportPath: string;
  /** Wait between polls of a batch, ms (İYS: ≥ 300,000). Default 300,000. */
  pollEveryMs?: number;
  /** Clock (epoch ms) for H162/H467. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (p: { validated: number; sent: number; confirmed: number; total: number }) => void;
}

const HEADER = ['recipient', 'type', 'source', 'status', 'consentDate', 'recipientType'];

/**
 * Transfers a company's own consent list to İYS (the İYS upload layout: `recipient,type,source,
 * status,consentDate,recipientType[,retailerCode,retailerAccess]`):
 * 1. validates every row locally with İYS's rules (formats and enums H111–H122, HS_2015's fixed
 *    date H155, H156, future H162, three business days H467, HS_KARAR only with RET H408), repeats
 *    of one key within the file (the later row wins, the earlier is reported H193), and the state
 *    rules against the mirror (H174 RET over RET, H175 first record RET, H178 older date);
 * 2. uploads the valid rows with v2 batches of ≤ 1000 inside the client's rate budget;
 * 3. polls each batch until every item is final and writes a per-line report.
 * Resumable: the state file records each batch's intent before it is sent and its requestId after;
 * a rerun polls what was sent and, for a batch whose submit outcome is unknown (crash mid-call),
 * sends its rows as idempotent v2 single writes (same body → same transactionId), so no row is
 * registered twice.
 */
export async function bulkUpload(input: Readable, opts: BulkUploadOptions): Promise<UploadSummary> {
  const now = opts.now ?? Date.now;
  // unref'd: a job waiting minutes for İYS's batch results never holds a shutting-down process
  // open (it resumes from its state file at the next start)
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => { setTimeout(r, ms).unref(); }));
  // append-log.ts state file: CRC-framed and sealed; damage → GW_ERR_LOG_CORRUPT, never a fresh start
  const state: UploadState = readStateFileSync<UploadState>(opts.statePath) ?? { brandCode: opts.brandCode, chunks: [], results: {} };
  const save = () => writeStateFileSync(opts.statePath, state);

  // 1. validate (always redone: cheap and deterministic apart from H467's clock)
  const started = Date.now();
  const valid: Array<{ line: number; consent: ConsentInput }> = [];
  const byKey = new Map<string, number>();
  const invalid = new Map<number, UploadLine>();
  let header: string[] | null = null;
  const at = new Date(now());
  // H467 depends only on the consent's time and `at`: memoized per distinct consentDate
  const windowMemo = new Map<number, boolean>();
  const withinUploadWindow = (d: Date, n: Date) => {
    const k = d.getTime();
    let v = windowMemo.get(k);
    if (v === undefined) { v = isWithinUploadWindow(d, n); if (windowMemo.size < 100_000) windowMemo.set(k, v); }
    return v;
  };
  const dataLines: number[] = [];
  let cols: number[] = [];
  const validateRow = async (rec: string[], line: number) => {
    const get = (i: number) => (i < 0 ? '' : (rec[i] ?? ''));
    const [cRecipient, cType, cSource, cStatus, cConsentDate, cRecipientType, cRetailerCode, cRetailerAccess] = cols as [number, number, number, number, number, number, number, number];
    const raw = get(cRecipient);
    const type = get(cType) as ConsentType;
    const n = normalizeRecipient(raw, (['MESAJ', 'ARAMA', 'EPOSTA'] as const).includes(type) ? type : undefined);
    const consent: ConsentInput = {
      recipient: n.ok ? n.canonical : raw, type, status: get(cStatus) as ConsentStatus,
      recipientType: (get(cRecipientType) || 'BIREYSEL') as RecipientType,
      ...(get(cSource) ? { source: get(cSource) } : {}), ...(get(cConsentDate) ? { consentDate: get(cConsentDate) } : {}),
      ...(get(cRetailerCode) ? { retailerCode: Number(get(cRetailerCode)) } : {}),
      ...(get(cRetailerAccess) ? { retailerAccess: get(cRetailerAccess).split(/[;|]/).map(Number) } : {}),
    };
    let errs = n.ok ? validateConsent(consent, { now: at, withinUploadWindow }) : [{ code: 'H122', message: n.message }];
    if (errs.length === 0 && opts.store) {
      const key = { brandCode: opts.brandCode, recipientType: consent.recipientType!, type, recipient: consent.recipient };
      const cur = opts.store.getSync ? opts.store.getSync(key) : await opts.store.get(key);
      const tErr = transitionError(cur && !cur.noncanonical ? { status: cur.status, consentDate: cur.consentDate, source: cur.source } : undefined, consent);
      if (tErr) errs = [tErr];
    }
    if (errs.length) { invalid.set(line, { line, recipient: raw, result: 'invalid', code: errs[0]!.code, message: errs[0]!.message }); return; }
    const key = `${consent.recipientType}|${type}|${consent.recipient}`;
    const prev = byKey.get(key);
    if (prev !== undefined) {
      const p = valid[prev]!;
      invalid.set(p.line, { line: p.line, recipient: p.consent.recipient, result: 'invalid', code: 'H193', message: `repeated later in the file (line ${line}); the later row is sent` });
      valid[prev] = { line, consent };
      return;
    }
    byKey.set(key, valid.length);
    valid.push({ line, consent });
  };
  // Rows come from the importer's CSV reader (quote-free lines split directly, csv-parse for
  // quoted ones); broken quoting is a per-line H092 ("invalid batch request") result.
  const pendingRows: Array<[string[], number]> = [];
  const reader = new CsvLineReader((rec, line) => pendingRows.push([rec, line]), (line, message) => {
    dataLines.push(line);
    invalid.set(line, { line, recipient: '', result: 'invalid', code: 'H092', message });
  });
  const drain = async () => {
    for (const [rec, line] of pendingRows.splice(0)) {
      if (!header) {
        header = rec;
        if (!HEADER.every((h) => rec.includes(h))) throw new Error(`upload layout header expected (${HEADER.join(',')}), got: ${rec.join(',').slice(0, 200)}`);
        cols = [...HEADER, 'retailerCode', 'retailerAccess'].map((h) => header!.indexOf(h));
        continue;
      }
      dataLines.push(line);
      await validateRow(rec, line);
      if (slice.due) await slice.yield();
      if (dataLines.length % 5000 === 0) opts.onProgress?.({ validated: dataLines.length, sent: 0, confirmed: 0, total: 0 });
    }
  };
  const decoder = new StringDecoder('utf8');
  // validation shares the request loop in 2 ms slices (loop-slice.ts): checks are not held behind it
  const slice = new LoopSlice();
  const push = (text: string) => reader.push(text);
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    await feedSliced(typeof chunk === 'string' ? chunk : decoder.write(chunk), push, slice);
    await drain();
  }
  reader.push(decoder.end());
  reader.end();
  await drain();
  const validateSeconds = (Date.now() - started) / 1000;
  const rows = dataLines.length;
  for (const [l, r] of invalid) state.results[l] = r;
  const toSend = valid.filter((v) => !invalid.has(v.line));
  const consentOf = new Map(toSend.map((v) => [v.line, v.consent]));

  // 2. chunks: reuse the recorded plan, else make one
  if (state.chunks.length === 0) {
    for (let i = 0; i < toSend.length; i += 1000) state.chunks.push({ lines: toSend.slice(i, i + 1000).map((v) => v.line), state: 'planned' });
    save();
  }
  const progress = () => {
    const confirmed = Object.values(state.results).filter((r) => r.result !== 'pending' && r.result !== 'invalid').length;
    const sent = state.chunks.filter((c) => c.state !== 'planned').reduce((n, c) => n + c.lines.length, 0);
    opts.onProgress?.({ validated: rows, sent, confirmed, total: toSend.length });
  };
  for (const c of state.chunks) {
    const items = c.lines.map((l) => consentOf.get(l)).filter((x): x is ConsentInput => x !== undefined);
    if (c.state === 'planned') {
      c.state = 'submitting'; save();
      const r = await opts.client.addConsentBatch(opts.brandCode, items);
      c.requestId = r.requestId; c.state = 'submitted'; save();
    } else if (c.state === 'submitting') {
      // outcome of the earlier submit unknown: idempotent v2 single writes, never a second batch
      for (const l of c.lines) {
        const consent = consentOf.get(l);
        if (!consent) continue;
        try {
          const r = await opts.client.addConsent(opts.brandCode, consent);
          state.results[l] = { line: l, recipient: consent.recipient, result: 'registered', transactionId: r.transactionId };
        } catch (e) {
          const codes = (e as { iysCodes?: string[] }).iysCodes ?? [];
          state.results[l] = { line: l, recipient: consent.recipient, result: 'failed', code: codes[0] ?? (e as { code?: string }).code ?? 'ERROR', message: (e as Error).message };
        }
      }
      c.state = 'final'; save();
    }
    progress();
  }

  // 3. poll until every submitted chunk is final
  for (;;) {
    const open = state.chunks.filter((c) => c.state === 'submitted');
    if (open.length === 0) break;
    let waiting = false;
    for (const c of open) {
      const out = classifyBatchResults(await opts.client.getBatchResults(opts.brandCode, c.requestId!));
      if (out.notReady || out.pending.length > 0) waiting = true;
      for (const s of out.succeeded) { const l = c.lines[s.index]!; state.results[l] = { line: l, recipient: consentOf.get(l)?.recipient ?? '', result: 'registered', transactionId: s.transactionId }; }
      for (const f of out.failed) { const l = c.lines[f.index]!; state.results[l] = { line: l, recipient: consentOf.get(l)?.recipient ?? '', result: 'failed', code: f.code, message: f.message }; }
      if (!out.notReady && out.pending.length === 0) c.state = 'final';
    }
    save();
    progress();
    if (waiting) await sleep(opts.pollEveryMs ?? 300_000);
  }

  // 4. report
  const lines = ['line,recipient,result,code,transactionId,message'];
  const summary: UploadSummary = { rows, invalid: 0, sent: toSend.length, registered: 0, failed: 0, pending: 0, validateSeconds, validateRowsPerSecond: Math.round(rows / Math.max(validateSeconds, 1e-6)) };
  for (const l of dataLines.sort((a, b) => a - b)) {
    const r = state.results[l] ?? { line: l, recipient: consentOf.get(l)?.recipient ?? '', result: 'pending' as const };
    summary[r.result === 'registered' ? 'registered' : r.result === 'failed' ? 'failed' : r.result === 'invalid' ? 'invalid' : 'pending']++;
    lines.push([l, r.recipient, r.result, r.code ?? '', r.transactionId ?? '', csvCell(r.message ?? '')].join(','));
  }
  writeDurable(opts.reportPath, lines.join('\n') + '\n');
  return summary;
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function writeDurable(path: string, text: string): void {
  const tmp = path + '.tmp';
  writeFileSync(tmp, text);
  const fd = openSync(tmp, 'r+');
  try { fsyncSync(fd); } finally { closeSync(fd); }
  renameSync(tmp, path);
}
