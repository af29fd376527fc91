// C39: a stream decoded chunk by chunk splits multi-byte letters. 40,000 lines
// `+905550000003,Şükrü Öztürk N,İstanbul Çağlayan` to /v1/scrub came back with 2 lines holding
// U+FFFD. The scrub now splits records on bytes and echoes each record's own bytes: every
// allowed line is byte-identical whatever the chunk boundaries.
import t from 'tap';
import { cutAt, postScrub, postScrubStream, scrubChunks, scrubGateway } from '../helpers/scrub.ts';

const LINE = '+905550000003,Şükrü Öztürk N,İstanbul Çağlayan\n';

t.test('C39 trigger: 40,000 Turkish lines over a real socket in odd-sized chunks come back byte-identical', async (t) => {
  const gw = await scrubGateway(t, { listen: true });
  const list = Buffer.from(LINE.repeat(40_000));
  // chunks of 4,093 bytes (a prime: boundaries fall inside Ş, ü, Ö, İ, Ç, ğ again and again)
  const cuts: number[] = [];
  for (let i = 4093; i < list.length; i += 4093) cuts.push(i);
  const inside = cuts.filter((c) => (list[c]! & 0xc0) === 0x80).length;
  t.ok(inside > 50, `${inside} chunk boundaries fall inside a multi-byte letter`);
  const res = await postScrubStream(gw, 'type=MESAJ', cutAt(list, cuts));
  t.equal(res.status, 200);
  t.equal(res.raw.indexOf(Buffer.from('\uFFFD')), -1, 'no U+FFFD');
  t.ok(res.raw.equals(list), 'output = input, byte for byte');
});

t.test('C39: a boundary at every byte of a line (in-process, exact boundaries)', async (t) => {
  const gw = await scrubGateway(t);
  const list = Buffer.from('telefon,ad,şehir\n' + LINE + '+905550000002,Çağrı Işık,Muğla\n' + LINE);
  const expected = Buffer.from('telefon,ad,şehir\n' + LINE + LINE);
  for (let cut = 1; cut < list.length; cut++) {
    const { out } = await scrubChunks(gw, cutAt(list, [cut]), { type: 'MESAJ' });
    if (!out.equals(expected)) { t.fail(`cut at ${cut}: ${JSON.stringify(out.toString())}`); return; }
  }
  // and one byte per chunk
  const { out, stats } = await scrubChunks(gw, cutAt(list, Array.from({ length: list.length - 1 }, (_x, i) => i + 1)), { type: 'MESAJ' });
  t.ok(out.equals(expected), 'one byte per chunk');
  t.same(stats, { lines: 3, allowed: 2, blocked: 1, header: true });
});

t.test('C39 variant: the recipient field itself split inside a multi-byte e-mail letter, annotated', async (t) => {
  const gw = await scrubGateway(t);
  const list = Buffer.from('ayse@example.com,Ayşe\nöğrenci@example.com,Öğrenci\nali@example.com,Ali\n');
  const expected = 'ayse@example.com,Ayşe,ALLOW,CONSENT_ONAY\nöğrenci@example.com,Öğrenci,BLOCK,RECIPIENT_NOT_REGISTRABLE\nali@example.com,Ali,BLOCK,CONSENT_RET\n';
  for (let cut = 1; cut < list.length; cut++) {
    const { out } = await scrubChunks(gw, cutAt(list, [cut]), { type: 'EPOSTA', annotate: true });
    if (out.toString() !== expected) { t.fail(`cut at ${cut}: ${out.toString()}`); return; }
  }
  t.pass('every cut');
  const res = await postScrub(gw, 'type=EPOSTA&annotate=true', list);
  t.equal(res.text, expected);
});

// The other places a stream is read as text (issue 10 item 5): the CSV import (StringDecoder) and
// İYS push (fastify's JSON body reader, setEncoding). A cut inside ş/ü/ö must not change a key.
import { Readable } from 'node:stream';
import { importCsv } from '../../src/mirror/importer.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { makeGateway } from '../helpers/gateway.ts';
import { normalizeRecipient } from '../../src/domain/recipient.ts';

const norm = normalizeRecipient('ayse@örnekçiğdem.com.tr', 'EPOSTA');
const IDN = norm.ok ? norm.canonical : 'not normalized';

t.test('C39 in imports: a RET for ayse@örnekçiğdem.com.tr imported with a chunk boundary inside every letter', async (t) => {
  const csv = Buffer.from('creationDate,transactionId,recipient,recipientType,type,status,consentDate,source\n'
    + `2026-03-02 09:15:02,${'ab'.repeat(32)},ayse@örnekçiğdem.com.tr,BIREYSEL,EPOSTA,RET,2026-03-02 09:14:00,HS_WEB\n`);
  const at = csv.indexOf(Buffer.from('örnek'));
  for (let cut = at + 1; cut < at + Buffer.byteLength('örnekçiğdem'); cut++) {
    const store = new MemoryStore({ dataDir: null });
    await store.open();
    const report = await importCsv(Readable.from([csv.subarray(0, cut), csv.subarray(cut)], { objectMode: false }), { brandCode: 700001, store });
    const rec = await store.get({ brandCode: 700001, recipientType: 'BIREYSEL', type: 'EPOSTA', recipient: IDN });
    await store.close();
    if (report.applied !== 1 || rec?.status !== 'RET') { t.fail(`cut at ${cut}: ${JSON.stringify(report)} ${JSON.stringify(rec)}`); return; }
  }
  t.pass('every cut');
});

t.test('C39 in İYS push: a RET delivered with a chunk boundary inside a letter is applied to the right key', async (t) => {
  const PUSH = { username: 'iys-push', password: 'push-secret-123' };
  const gw = await makeGateway(t, { iys: { baseUrl: 'http://127.0.0.1:9', iysCode: 700001, username: 'u', password: 'p', brands: [700001], push: PUSH, pullIntervalMs: 0, uploadIntervalMs: 0 }, mirrorMaxAgeMs: 0 });
  const body = Buffer.from(JSON.stringify({ list: [{ iysCode: 700001, brandCode: 700001, recipient: 'ayse@örnekçiğdem.com.tr', recipientType: 'BIREYSEL', type: 'EPOSTA', status: 'RET', source: 'IYS_MOBIL', consentDate: '2026-01-10 10:00:00', creationDate: '2026-01-10 10:00:01', transactionId: 'ef'.repeat(32) }] }));
  const cut = body.indexOf(Buffer.from('ö')) + 1; // between the two bytes of ö
  const res = await gw.app.inject({ method: 'POST', url: '/v1/iys/push', headers: { authorization: 'Basic ' + Buffer.from(`${PUSH.username}:${PUSH.password}`).toString('base64'), 'content-type': 'application/json' },
    payload: Readable.from([body.subarray(0, cut), body.subarray(cut)], { objectMode: false }) });
  t.equal(res.statusCode, 200, res.body);
  const check = await gw.call('POST', '/v1/check', { brandCode: 700001, recipient: 'ayse@örnekçiğdem.com.tr', type: 'EPOSTA' });
  t.match(check.body, { decision: 'BLOCK', reason: 'CONSENT_RET' });
});

t.test('C39 in İYS uploads: an IDN e-mail consent cut inside a letter is registered under its own address', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { bulkUpload } = await import('../../src/iys/bulk-upload.ts');
  const { DEMO, simulatorClient, startTestSimulator } = await import('../../src/simulator/testing.ts');
  const sim = await startTestSimulator({ batchDelayMs: 1000, clockStartAt: '2026-03-12T12:00:00+03:00', clockFrozen: true });
  t.teardown(() => sim.close());
  const { client, now } = await simulatorClient(sim, { perSecond: 9, retryBaseMs: 5 });
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-c39-upload-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const csv = Buffer.from('recipient,type,source,status,consentDate,recipientType\nayse@örnekçiğdem.com.tr,EPOSTA,HS_WEB,ONAY,2026-03-11 10:00:00,BIREYSEL\n');
  const cut = csv.indexOf(Buffer.from('ç')) + 1; // between the two bytes of ç
  const summary = await bulkUpload(Readable.from([csv.subarray(0, cut), csv.subarray(cut)], { objectMode: false }), {
    brandCode: DEMO.brandCode, client, store: null, statePath: join(dir, 's'), reportPath: join(dir, 'r.csv'), now, sleep: async () => { await sim.advance(2000); }, pollEveryMs: 1,
  });
  t.match(summary, { rows: 1, invalid: 0, registered: 1 });
  const inIys = JSON.stringify((await sim.http('GET', `/_sim/consents?brandCode=${DEMO.brandCode}`)).body);
  t.ok(inIys.includes(IDN) || inIys.includes('ayse@örnekçiğdem.com.tr'), `registered as ${IDN}`);
  t.notOk(inIys.includes('\uFFFD'), 'no U+FFFD');
});
