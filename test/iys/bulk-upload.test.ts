import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { bulkUpload } from '../../src/iys/bulk-upload.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { DEMO, simulatorClient, startTestSimulator } from '../../src/simulator/testing.ts';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const sim = await startTestSimulator({ batchDelayMs: 1000, clockStartAt: '2026-03-12T12:00:00+03:00', clockFrozen: true });
  t.teardown(() => sim.close());
  const { client, now } = await simulatorClient(sim, { perSecond: 9, retryBaseMs: 5 });
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-upload-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new MemoryStore({ dataDir: null });
  await store.open();
  // polling: move the simulator's clock past the batch delay instead of sleeping
  const sleep = async () => { await sim.advance(2000); };
  return { sim, client, dir, store, now, sleep };
}

const CSV = [
  'recipient,type,source,status,consentDate,recipientType',
  '05321112001,MESAJ,HS_WEB,ONAY,2026-03-11 10:00:00,BIREYSEL', // 2 ok
  '05321112002,MESAJ,HS_2015,ONAY,2014-11-20 10:00:00,BIREYSEL', // 3 H155
  '05321112003,MESAJ,HS_WEB,ONAY,2026-03-01 10:00:00,BIREYSEL', // 4 H467 (older than 3 business days)
  '05321112004,MESAJ,HS_KARAR,ONAY,2026-03-11 10:00:00,BIREYSEL', // 5 H408
  '05321112005,SMS,HS_WEB,ONAY,2026-03-11 10:00:00,BIREYSEL', // 6 H117
  '05321112001,MESAJ,HS_WEB,ONAY,2026-03-11 11:00:00,BIREYSEL', // 7 repeat of line 2: line 2 becomes H193, 7 is sent
  'ali@example.com,EPOSTA,HS_WEB,ONAY,2026-03-11 10:00:00,BIREYSEL', // 8 ok
  '05321112006,MESAJ,HS_WEB,RET,2026-03-11 10:00:00,BIREYSEL', // 9 H175 (first record RET, checked against the mirror)
  '05321112007,MESAJ,HS_2015,ONAY,2015-05-01 00:00:00,BIREYSEL', // 10 ok: HS_2015 is exempt from H467
  '05321112008,MESAJ,HS_WEB,ONAY,2026-03-13 10:00:00,BIREYSEL', // 11 H162 future
].join('\n') + '\n';

t.test('validates every row with İYS rules, uploads the rest in v2 batches, reports every line', async (t) => {
  const { client, dir, store, now, sleep, sim } = await setup(t);
  const file = join(dir, 'list.csv');
  writeFileSync(file, CSV);
  const summary = await bulkUpload(Readable.from([CSV]), { brandCode: DEMO.brandCode, client, store, statePath: file + '.state', reportPath: file + '.report.csv', now, sleep, pollEveryMs: 1 });
  t.match(summary, { rows: 10, invalid: 7, sent: 3, registered: 3, failed: 0, pending: 0 });
  const report = readFileSync(file + '.report.csv', 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const code = Object.fromEntries(report.map((r) => [r[0], r[2] === 'invalid' ? r[3] : r[2]]));
  t.same(code, { 2: 'H193', 3: 'H155', 4: 'H467', 5: 'H408', 6: 'H117', 7: 'registered', 8: 'registered', 9: 'H175', 10: 'registered', 11: 'H162' });
  t.match(report.find((r) => r[0] === '7')![4], /^[0-9a-f]{64}$/, 'transactionId per registered line');
  const inIys = JSON.stringify((await sim.http('GET', `/_sim/consents?brandCode=${DEMO.brandCode}`)).body);
  t.ok(inIys.includes('+905321112001') && inIys.includes('ali@example.com'));
});

t.test('resumable: a batch whose submit outcome is unknown is sent as idempotent single writes; nothing twice', async (t) => {
  const { client, dir, now, sleep, sim } = await setup(t);
  const csv = ['recipient,type,source,status,consentDate,recipientType', ...Array.from({ length: 5 }, (_, i) => `0532111300${i},MESAJ,HS_WEB,ONAY,2026-03-11 10:00:00,BIREYSEL`)].join('\n') + '\n';
  const statePath = join(dir, 's.json');
  // the first run crashed after the batch request left but before its requestId was recorded
  await client.addConsentBatch(DEMO.brandCode, Array.from({ length: 5 }, (_, i) => ({ recipient: `+90532111300${i}`, type: 'MESAJ' as const, source: 'HS_WEB', status: 'ONAY' as const, consentDate: '2026-03-11 10:00:00', recipientType: 'BIREYSEL' as const })));
  await sim.advance(2000);
  writeFileSync(statePath, JSON.stringify({ brandCode: DEMO.brandCode, chunks: [{ lines: [2, 3, 4, 5, 6], state: 'submitting' }], results: {} }));
  const summary = await bulkUpload(Readable.from([csv]), { brandCode: DEMO.brandCode, client, store: null, statePath, reportPath: join(dir, 'r.csv'), now, sleep, pollEveryMs: 1 });
  t.match(summary, { rows: 5, sent: 5, registered: 5, failed: 0 });
  const stats = (await sim.http('GET', `/_sim/consents?brandCode=${DEMO.brandCode}`)).body as unknown[];
  const rows = JSON.stringify(stats).match(/\+90532111300\d/g) ?? [];
  t.equal(new Set(rows).size, 5);
  // a second full rerun changes nothing and sends nothing
  const again = await bulkUpload(Readable.from([csv]), { brandCode: DEMO.brandCode, client, store: null, statePath, reportPath: join(dir, 'r.csv'), now, sleep, pollEveryMs: 1 });
  t.match(again, { registered: 5 });
  // the state file of the earlier release (plain JSON, above) is now a framed, sealed state file
  const { readFileSync } = await import('node:fs');
  const framed = readFileSync(statePath);
  t.equal(framed.subarray(0, 8).toString('latin1'), 'IYSLOG1\n', 'state rewritten in the append-log format');
  // a damaged state file stops the job with a coded error instead of starting over (rows sent twice)
  framed[20]! ^= 0x10;
  writeFileSync(statePath, framed);
  await t.rejects(bulkUpload(Readable.from([csv]), { brandCode: DEMO.brandCode, client, store: null, statePath, reportPath: join(dir, 'r.csv'), now, sleep, pollEveryMs: 1 }), { code: 'GW_ERR_LOG_CORRUPT' });
});
