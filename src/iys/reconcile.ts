import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { compareMovements, sameMovement } from '../domain/consent-order.ts';
import type { ConsentKey, Movement } from '../domain/types.ts';
import type { ConsentStore } from '../mirror/consent-store.ts';
import { MemoryStore } from '../mirror/memory-store.ts';
import { importCsv } from '../mirror/importer.ts';
import type { IysClient } from './client.ts';

/** Outcome of reconciling one brand's day. */
export interface ReconcileReport {
  brandCode: number;
  reportDate: string;
  /** 'empty' when İYS had no movements that day (204); 'not-ready' while İYS is still preparing it. */
  status: 'reconciled' | 'empty' | 'not-ready' | 'hash-mismatch';
  rows: number;
  /** Our SHA-384 of the file as received, and İYS's agreement value. */
  sha384: string | null;
  iysHash: string | null;
  /** Movements of the file the mirror did not hold, applied now (the mirror missed them). */
  missingApplied: number;
  /** Keys whose current mirror record is older than the newest movement of the file (after applying: should be 0). */
  differences: Array<{ key: ConsentKey; mirror: Movement | null; file: Movement }>;
  /** True when the agreement was confirmed to İYS (hashes matched and confirm was asked). */
  confirmed: boolean;
}

/**
 * Daily reconciliation ("mutabakat") of one brand and day against İYS (reference §2.9): downloads
 * the daily movement file, checks its SHA-384 against İYS's agreement value (a mismatch means a
 * damaged or partial download: nothing is applied), then compares every movement with the mirror,
 * applies the ones it lacks (idempotent) and reports keys whose record still disagrees.
 * @param opts.confirm confirm the agreement to İYS when the hashes match (default false)
 * @throws İYS client errors (GW_ERR_IYS_*) when İYS cannot be read
 */
export async function reconcileDay(
  client: IysClient, store: ConsentStore, brandCode: number, reportDate: string, opts: { confirm?: boolean; maxDifferences?: number } = {},
): Promise<ReconcileReport> {
  const report: ReconcileReport = { brandCode, reportDate, status: 'reconciled', rows: 0, sha384: null, iysHash: null, missingApplied: 0, differences: [], confirmed: false };
  const agreement = await client.getAgreement(brandCode, reportDate);
  if (agreement === null) { report.status = 'empty'; return report; }
  if (agreement.processStatus !== 'completed' || !agreement.hashValue) { report.status = 'not-ready'; return report; }
  report.iysHash = agreement.hashValue.toLowerCase();
  const file = await client.getDailyFile(brandCode, reportDate);
  if (file === null) { report.status = 'empty'; return report; }
  report.sha384 = createHash('sha384').update(file, 'utf8').digest('hex');
  if (report.sha384 !== report.iysHash) { report.status = 'hash-mismatch'; return report; }

  // Parse the file with the importer's rules into a scratch store, then compare key by key.
  const scratch = new MemoryStore({ dataDir: null });
  await scratch.open();
  const parsed: Movement[] = [];
  // importCsv only calls apply(): collect the parsed movements on their way into the scratch store
  const collecting = { apply: async (ms: readonly Movement[]) => { parsed.push(...ms); return scratch.apply(ms); } } as unknown as ConsentStore;
  const imp = await importCsv(Readable.from([file]), { brandCode, store: collecting });
  report.rows = imp.rows;
  const missing: Movement[] = [];
  for (const m of parsed) {
    const hist = await store.history(m);
    if (!hist.some((h) => sameMovement(h, m))) missing.push(m);
  }
  if (missing.length) {
    const outcomes = await store.apply(missing);
    report.missingApplied = outcomes.filter((o) => o !== 'duplicate').length;
  }
  const max = opts.maxDifferences ?? 100;
  for await (const fileRec of scratch.iterate(brandCode)) {
    const cur = await store.get(fileRec);
    if (!cur || compareMovements(cur, fileRec) < 0) {
      if (report.differences.length < max) report.differences.push({ key: { brandCode, recipientType: fileRec.recipientType, type: fileRec.type, recipient: fileRec.recipient }, mirror: cur, file: fileRec });
    }
  }
  await scratch.close();
  if (opts.confirm && report.differences.length === 0) report.confirmed = await client.confirmAgreement(brandCode, reportDate);
  return report;
}
