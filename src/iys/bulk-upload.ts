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

/** A batch of ≤ 1000 rows: its lines and the consents sent for them (aligned by position). */
export interface UploadChunk {
  lines: number[];
  /** The validated consent of each line (null: none, e.g. a line of a resume file of an earlier release that no longer validates). Absent in state files of an earlier release. */
  items?: Array<ConsentInput | null>;
  /** planned; submitting: intent written, outcome unknown; submitted: requestId known; final: every line has a result. */
  state: 'planned' | 'submitting' | 'submitted' | 'final';
  requestId?: string;
}

/** What validation decided once for a job: every data line, how many chunks, how long it took. */
export interface UploadPlan {
  brandCode: number;
  /** Every data line number of the input, ascending. */
  lines: number[];
  chunkCount: number;
  validateSeconds: number;
}

/**
 * Where an upload's progress is kept between steps (a file for one gateway, Redis for a fleet:
 * upload-jobs.ts). Every method resolves once the step is durable; a store that lost the right to
 * write (a fleet instance that lost the İYS lease) rejects with FencedError (code `FENCED`), and
 * the upload stops without sending anything more.
 */
export interface UploadProgress {
  /** The stored plan, chunks and per-line results; plan null before validation was stored. */
  load(): Promise<{ plan: UploadPlan | null; chunks: UploadChunk[]; results: Map<number, UploadLine> }>;
  /** The plan, its chunks (every one `planned`, or an earlier release's chunks with their states) and the lines found invalid. */
  savePlan(plan: UploadPlan, chunks: UploadChunk[], invalid: UploadLine[]): Promise<void>;
  /** One chunk's new state and the line results it produced. */
  saveChunk(index: number, chunk: UploadChunk, results: UploadLine[]): Promise<void>;
  /** The per-line report (CSV text in pieces, in order). */
  saveReport(pieces: string[]): Promise<void>;
}

interface UploadState { brandCode: number; plan?: UploadPlan; chunks: UploadChunk[]; results: Record<number, UploadLine> }

/**
 * The file twin of {@link UploadProgress} (one gateway, and `iys-gate upload`): the whole state in
 * one append-log.ts state file (CRC-framed, sealed, fsynced at every step; a plain JSON file of
 * the earlier release is read), the report written to `reportPath` (fsynced, then renamed).
 */
export function fileUploadProgress(statePath: string, reportPath: string, brandCode: number): UploadProgress {
  let state: UploadState | null = null;
  const get = (): UploadState => (state ??= readStateFileSync<UploadState>(statePath) ?? { brandCode, chunks: [], results: {} });
  const save = () => writeStateFileSync(statePath, get());
  return {
    async load() {
      const s = get();
      return { plan: s.plan ?? null, chunks: s.chunks, results: new Map(Object.values(s.results).map((r) => [r.line, r])) };
    },
    async savePlan(plan, chunks, invalid) {
      const s = get();
      s.plan = plan; s.chunks = chunks;
      for (const r of invalid) s.results[r.line] = r;
      save();
    },
    async saveChunk(index, chunk, results) {
      const s = get();
      s.chunks[index] = chunk;
      for (const r of results) s.results[r.line] = r;
      save();
    },
    async saveReport(pieces) { writeDurable(reportPath, pieces.join('')); },
  };
}

export interface RunUploadOptions {
  brandCode: number;
  client: IysClient;
  /** The mirror, for İYS's state rules (H175/H174/H178); null skips them. */
  store: ConsentStore | null;
  /** Wait between polls of a batch, ms (İYS: ≥ 300,000). Default 300,000. */
  pollEveryMs?: number;
  /** Clock (epoch ms) for H162/H467. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (p: { validated: number; sent: number; confirmed: number; total: number }) => void;
}

/**
 * {@link bulkUpload} on any {@link UploadProgress}: validates `open()`'s rows once (only when no
 * plan is stored yet, or the stored chunks of an earlier release lack their consents), then sends
 * and polls chunk by chunk, each step stored before the next request. A resumed job (another
 * process, another instance of a fleet) never validates again, so a line's result recorded before
 * the crash stays its result (the mirror may by then hold the job's own writes).
 * @throws the progress store's errors (FencedError: stop, another instance resumes); İYS errors
 *   of a batch submit or poll (the job fails, its stored state kept)
 */
export async function runUpload(open: () => Readable, progress: UploadProgress, opts: RunUploadOptions): Promise<UploadSummary> {
  // unref'd: a job waiting minutes for İYS's batch results never holds a shutting-down process
  // open (it resumes from its stored state at the next start, or on another instance)
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => { setTimeout(r, ms).unref(); }));
  const loaded = await progress.load();
  let plan = loaded.plan;
  let chunks = loaded.chunks;
  const results = loaded.results;
  if (!plan || chunks.some((c) => !c.items)) {
    const v = await validateUpload(open(), opts);
    if (chunks.length === 0) {
      for (let i = 0; i < v.toSend.length; i += 1000) {
        const part = v.toSend.slice(i, i + 1000);
        chunks.push({ lines: part.map((x) => x.line), items: part.map((x) => x.consent), state: 'planned' });
      }
    } else {
      // a state file of the earlier release: its chunks keep their states, their consents come from this validation
      const consentOf = new Map(v.toSend.map((x) => [x.line, x.consent]));
      chunks = chunks.map((c) => ({ ...c, items: c.lines.map((l) => consentOf.get(l) ?? null) }));
    }
    // a line already holding a result (sent before) keeps it
    const invalid = [...v.invalid.values()].filter((r) => !results.has(r.line) || results.get(r.line)!.result === 'invalid');
    plan = { brandCode: opts.brandCode, lines: v.lines, chunkCount: chunks.length, validateSeconds: v.validateSeconds };
    await progress.savePlan(plan, chunks, invalid);
    for (const r of invalid) results.set(r.line, r);
  }
  const total = chunks.reduce((n, c) => n + (c.items ?? []).filter((x) => x !== null).length, 0);
  const report = () => {
    const confirmed = [...results.values()].filter((r) => r.result !== 'pending' && r.result !== 'invalid').length;
    const sent = chunks.filter((c) => c.state !== 'planned').reduce((n, c) => n + c.lines.length, 0);
    opts.onProgress?.({ validated: plan!.lines.length, sent, confirmed, total });
  };
  const set = (r: UploadLine, out: UploadLine[]) => { results.set(r.line, r); out.push(r); };

  // 1. send: each chunk's intent stored before its request leaves
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    const items = c.items!;
    if (c.state === 'planned') {
      const send = items.filter((x): x is ConsentInput => x !== null);
      const lines = c.lines.filter((_l, k) => items[k] !== null);
      c.lines = lines; c.items = send;
      c.state = 'submitting'; await progress.saveChunk(i, c, []);
      const r = await opts.client.addConsentBatch(opts.brandCode, send);
      c.requestId = r.requestId; c.state = 'submitted'; await progress.saveChunk(i, c, []);
    } else if (c.state === 'submitting') {
      // outcome of the earlier submit unknown: idempotent v2 single writes, never a second batch
      const out: UploadLine[] = [];
      for (let k = 0; k < c.lines.length; k++) {
        const l = c.lines[k]!;
        const consent = items[k];
        if (!consent) continue;
        try {
          const r = await opts.client.addConsent(opts.brandCode, consent);
          set({ line: l, recipient: consent.recipient, result: 'registered', transactionId: r.transactionId }, out);
        } catch (e) {
          if ((e as { code?: string }).code === 'FENCED') throw e;
          const codes = (e as { iysCodes?: string[] }).iysCodes ?? [];
          set({ line: l, recipient: consent.recipient, result: 'failed', code: codes[0] ?? (e as { code?: string }).code ?? 'ERROR', message: (e as Error).message }, out);
        }
      }
      c.state = 'final'; await progress.saveChunk(i, c, out);
    }
    report();
  }

  // 2. poll until every submitted chunk is final
  for (;;) {
    const open = chunks.map((c, i) => [c, i] as const).filter(([c]) => c.state === 'submitted');
    if (open.length === 0) break;
    let waiting = false;
    for (const [c, i] of open) {
      const out = classifyBatchResults(await opts.client.getBatchResults(opts.brandCode, c.requestId!));
      if (out.notReady || out.pending.length > 0) waiting = true;
      const got: UploadLine[] = [];
      const recipientAt = (k: number) => c.items?.[k]?.recipient ?? '';
      for (const s of out.succeeded) set({ line: c.lines[s.index]!, recipient: recipientAt(s.index), result: 'registered', transactionId: s.transactionId }, got);
      for (const f of out.failed) set({ line: c.lines[f.index]!, recipient: recipientAt(f.index), result: 'failed', code: f.code, message: f.message }, got);
      if (!out.notReady && out.pending.length === 0) c.state = 'final';
      if (got.length > 0 || c.state === 'final') await progress.saveChunk(i, c, got);
    }
    report();
    if (waiting) await sleep(opts.pollEveryMs ?? 300_000);
  }

  // 3. report
  const recipientOf = new Map<number, string>();
  for (const c of chunks) c.lines.forEach((l, k) => { const r = c.items?.[k]?.recipient; if (r) recipientOf.set(l, r); });
  const summary: UploadSummary = { rows: plan.lines.length, invalid: 0, sent: total, registered: 0, failed: 0, pending: 0, validateSeconds: plan.validateSeconds, validateRowsPerSecond: Math.round(plan.lines.length / Math.max(plan.validateSeconds, 1e-6)) };
  const pieces: string[] = [];
  let piece = 'line,recipient,result,code,transactionId,message\n';
  for (const l of plan.lines) {
    const r = results.get(l) ?? { line: l, recipient: recipientOf.get(l) ?? '', result: 'pending' as const };
    summary[r.result === 'registered' ? 'registered' : r.result === 'failed' ? 'failed' : r.result === 'invalid' ? 'invalid' : 'pending']++;
    piece += [l, r.recipient, r.result, r.code ?? '', r.transactionId ?? '', csvCell(r.message ?? '')].join(',') + '\n';
    if (piece.length >= 512 * 1024) { pieces.push(piece); piece = ''; }
  }
  if (piece) pieces.push(piece);
  await progress.saveReport(pieces);
  return summary;
}

export interface BulkUploadOptions extends RunUploadOptions {
  /** Resume file (append-log.ts state file, fsynced at every step; a plain JSON file of the earlier release is read). */
  statePath: string;
  /** Per-line report (CSV). */
  reportPath: string;
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
 * Resumable: the state file records the plan (each batch's consents) once, each batch's intent
 * before it is sent and its requestId after; a rerun polls what was sent and, for a batch whose
 * submit outcome is unknown (crash mid-call), sends its rows as idempotent v2 single writes (same
 * body → same transactionId), so no row is registered twice.
 */
export async function bulkUpload(input: Readable, opts: BulkUploadOptions): Promise<UploadSummary> {
  return runUpload(() => input, fileUploadProgress(opts.statePath, opts.reportPath, opts.brandCode), opts);
}

interface Validated {
  lines: number[];
  invalid: Map<number, UploadLine>;
  toSend: Array<{ line: number; consent: ConsentInput }>;
  validateSeconds: number;
}

/** Step 1 of {@link bulkUpload}: every row against İYS's rules, repeats and the mirror's state. */
async function validateUpload(input: Readable, opts: Pick<RunUploadOptions, 'brandCode' | 'store' | 'now' | 'onProgress'>): Promise<Validated> {
  const now = opts.now ?? Date.now;
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
  const toSend = valid.filter((v) => !invalid.has(v.line));
  return { lines: dataLines.sort((a, b) => a - b), invalid, toSend, validateSeconds };
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
