/**
 * In-process micro-benchmark of the per-recipient steps of a check (no HTTP), to say what costs
 * what on the hot path: normalization, the embedded store lookup (full record decode), the policy,
 * the decision metric, and `CheckService.checkBatch` as a whole — each next to a baseline measured
 * in the same run (a plain `Map.get` over the same keys).
 *
 * Setup: the 100,000-row bench file (bench/gen-daily.ts) imported into an in-memory `MemoryStore`;
 * 1,000-recipient MESAJ batches with the mix of bench/batch.bench.ts.
 *
 * Run: `node --import tsx bench/lookup.bench.ts`. Prints CPU ns per recipient (process CPU time,
 * so other load on the machine does not inflate it; GC threads count).
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { CheckService } from '../src/check/check-service.ts';
import { decide } from '../src/domain/policy.ts';
import { normalizeRecipient } from '../src/domain/recipient.ts';
import type { ConsentKey } from '../src/domain/types.ts';
import { importCsv } from '../src/mirror/importer.ts';
import { MemoryStore } from '../src/mirror/memory-store.ts';
import { GatewayMetrics } from '../src/plugins/metrics.ts';
import { generateDaily } from './gen-daily.ts';
import { DATA_DIR, writeResult } from './lib/harness.ts';
import { BRAND, batchBodies, type Mirror } from './lib/workload.ts';

const ROWS = 100_000;
const csv = join(DATA_DIR, `iys-daily-${ROWS}.csv`);
await generateDaily({ rows: ROWS, out: csv, seed: 2 });
const store = new MemoryStore({ dataDir: null });
await store.open();
await importCsv(createReadStream(csv), { brandCode: BRAND, store });
const state = new Map<string, string>();
for await (const r of store.iterate()) state.set(`${r.type}|${r.recipientType}|${r.recipient}`, r.status);
const { bodies } = batchBodies({ csv, dataDir: '', consents: state.size, importSeconds: 0, state } satisfies Mirror, 20, 1000);
const inputs = bodies.flatMap((b) => b.recipients);
const N = inputs.length;
const canon = inputs.map((r) => { const n = normalizeRecipient(r, 'MESAJ'); return n.ok ? n.canonical : r; });
const keys: ConsentKey[] = canon.map((recipient) => ({ brandCode: BRAND, recipientType: 'BIREYSEL', type: 'MESAJ', recipient }));
const plain = new Map<string, number>();
for (const k of state.keys()) plain.set(k.slice(k.lastIndexOf('|') + 1), 1);

let sink = 0;
const results: Record<string, number> = {};
const cpuNs = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
/**
 * Runs `fn` over all N inputs repeatedly for ~`ms` of this process's CPU time after a warm-up;
 * prints CPU ns per recipient (CPU time, not wall time: the machine is shared, see README).
 */
function bench(name: string, fn: (i: number) => unknown, ms = 700): void {
  for (let r = 0; r < 3; r++) for (let i = 0; i < N; i++) if (fn(i)) sink++;
  let ops = 0;
  const t0 = cpuNs();
  while (cpuNs() - t0 < ms * 1e6) { for (let i = 0; i < N; i++) if (fn(i)) sink++; ops += N; }
  report(name, (cpuNs() - t0) / ops);
}
function report(name: string, ns: number): void {
  results[name] = ns;
  console.log(`${name.padEnd(52)} ${ns.toFixed(0).padStart(7)} ns/recipient  (${Math.round(1e9 / ns).toLocaleString('en-US').padStart(12)} /s per core)`);
}

console.log(`${state.size.toLocaleString('en-US')} consents, ${N.toLocaleString('en-US')} batch recipients (65% ONAY, 20% RET, 10% unknown, 5% messy)\n`);
bench('baseline: Map.get(canonical)', (i) => plain.get(canon[i]!));
bench('baseline: JSON.parse copy of key + Map.get', (i) => plain.get(JSON.parse(`"${canon[i]!}"`) as string));
bench('normalizeRecipient(input, MESAJ)', (i) => normalizeRecipient(inputs[i]!, 'MESAJ').ok);
bench('store.getSync(key) (full record decode)', (i) => store.getSync(keys[i]!));
const recs = keys.map((k) => store.getSync(k));
bench('decide() on the fetched record', (i) => decide({
  type: 'MESAJ', recipientType: 'BIREYSEL', messageType: 'TICARI', retailerCode: undefined,
  smsCapable: true, registrable: true, record: recs[i]!, stale: false,
}, { tacirWithoutRecord: 'allow' }).decision === 'ALLOW');
const metrics = new GatewayMetrics({ defaultMetrics: false });
bench('GatewayMetrics.decision() (one counter inc)', (i) => { metrics.decision('MESAJ', 'TICARI', recs[i]?.status === 'RET' ? 'BLOCK' : 'ALLOW', recs[i]?.status === 'RET' ? 'CONSENT_RET' : 'CONSENT_ONAY'); return true; });
const svc = new CheckService({ store, policy: { tacirWithoutRecord: 'allow' }, mirrorMaxAgeMs: 0, onDecision: (t, mt, d, r) => metrics.decision(t, mt, d, r) });
svc.markFresh(Date.now());
const batches = bodies.map((b) => b.recipients);
let pending = 0;
{
  // checkBatch is async (the store API is): measure whole batches, awaited.
  const run = async () => { for (const b of batches) { const r = await svc.checkBatch({ brandCode: BRAND, type: 'MESAJ', recipientType: 'BIREYSEL', messageType: 'TICARI' }, b); pending += r.counts.ALLOW; } };
  for (let r = 0; r < 3; r++) await run();
  let ops = 0;
  const t0 = cpuNs();
  while (cpuNs() - t0 < 1e9) { await run(); ops += N; }
  report('CheckService.checkBatch (per recipient)', (cpuNs() - t0) / ops);
}
await store.close();
writeResult('lookup', { consents: state.size, recipients: N, nsPerRecipient: results });
if (sink < 0 || pending < 0) console.log(sink, pending);
