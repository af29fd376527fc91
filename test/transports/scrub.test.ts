/**
 * Call-list scrubbing: `POST /v1/scrub` (streamed in and out) and `scrubFile` (the `iys-gate scrub
 * FILE` core). Allowed lines come back unchanged; `annotate=true` gives every line its decision.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { request } from 'undici';
import { recipientOfLine, scrubLines } from '../../src/transports/scrub/scrub-lines.ts';
import { scrubFile } from '../../src/transports/scrub/scrub-file.ts';
import { BRAND, KEY, makeProxy } from './harness.ts';

async function gateway(t: { teardown(fn: () => unknown): void }, listen = false) {
  const gw = await makeProxy(t, [], { listen });
  await gw.seed([
    { recipient: '+905550000001', status: 'ONAY', type: 'ARAMA' },
    { recipient: '+905550000002', status: 'RET', type: 'ARAMA' },
    { recipient: '+905550000003', status: 'ONAY', type: 'ARAMA' },
  ]);
  return gw;
}
const auth = { authorization: `Bearer ${KEY}` };

t.test('newline list: allowed lines unchanged, in order', async (t) => {
  const gw = await gateway(t);
  const res = await gw.app.inject({ method: 'POST', url: `/v1/scrub?brandCode=${BRAND}&type=ARAMA`, headers: { ...auth, 'content-type': 'text/plain' },
    payload: '05550000001\r\n+90 555 000 00 02\n\n5550000003\n05550000004\nnot-a-number\n' });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
  // byte for byte (issue 10 item 6): the CRLF of line 1 and the blank line 3 come back as sent
  t.equal(res.body, '05550000001\r\n\n5550000003\n');
});

t.test('CSV with header, annotate=true: every line with decision and reason', async (t) => {
  const gw = await gateway(t);
  const csv = 'telefon,ad\n05550000001,Ayşe\n"05550000002",Mehmet\n05550000005,Ali\nxyz,Bad\n';
  const res = await gw.app.inject({ method: 'POST', url: `/v1/scrub?brandCode=${BRAND}&type=ARAMA&annotate=true`, headers: { ...auth, 'content-type': 'text/csv' }, payload: csv });
  t.equal(res.statusCode, 200);
  t.equal(res.body, [
    'telefon,ad,decision,reason',
    '05550000001,Ayşe,ALLOW,CONSENT_ONAY',
    '"05550000002",Mehmet,BLOCK,CONSENT_RET',
    '05550000005,Ali,BLOCK,NO_CONSENT',
    'xyz,Bad,BLOCK,INVALID_RECIPIENT',
  ].join('\n') + '\n');
  const plain = await gw.app.inject({ method: 'POST', url: `/v1/scrub?brandCode=${BRAND}&type=ARAMA`, headers: { ...auth, 'content-type': 'text/csv' }, payload: csv });
  t.equal(plain.body, 'telefon,ad\n05550000001,Ayşe\n', 'header kept, allowed rows only');
  const info = await gw.app.inject({ method: 'POST', url: `/v1/scrub?brandCode=${BRAND}&type=ARAMA&messageType=BILGILENDIRME`, headers: { ...auth, 'content-type': 'text/csv' }, payload: csv });
  t.equal(info.body, 'telefon,ad\n05550000001,Ayşe\n"05550000002",Mehmet\n05550000005,Ali\n', 'informational: exempt (invalid still out)');
});

t.test('auth and query validation', async (t) => {
  const gw = await gateway(t);
  t.equal((await gw.app.inject({ method: 'POST', url: `/v1/scrub?brandCode=${BRAND}&type=ARAMA`, headers: { 'content-type': 'text/plain' }, payload: 'x' })).statusCode, 401);
  const bad = await gw.app.inject({ method: 'POST', url: `/v1/scrub?brandCode=${BRAND}&type=FAX`, headers: { ...auth, 'content-type': 'text/plain' }, payload: 'x' });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().code, 'GW_ERR_VALIDATION');
  t.equal((await gw.app.inject({ method: 'POST', url: `/v1/scrub?brandCode=${BRAND + 1}&type=ARAMA`, headers: { ...auth, 'content-type': 'text/plain' }, payload: 'x' })).statusCode, 403);
});

t.test('streams over a real socket: 200,000 lines in chunks split mid-line, output begins before input ends', async (t) => {
  const gw = await gateway(t, true);
  const N = 200_000;
  let firstOutAt = 0;
  let sentAll = 0;
  async function* body() {
    for (let i = 0; i < N; i += 10_000) {
      let s = '';
      for (let j = i; j < i + 10_000; j++) s += `0555${String(j % 10 === 0 ? 1 : 9_000_000 + j).padStart(7, '0')}\n`;
      yield s.slice(0, 7); yield s.slice(7); // split inside a line
      await new Promise((r) => setImmediate(r));
    }
    sentAll = Date.now();
  }
  const res = await request(`${gw.url}/v1/scrub?brandCode=${BRAND}&type=ARAMA&annotate=true`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: Readable.from(body()) });
  t.equal(res.statusCode, 200);
  let lines = 0, allow = 0, rest = '';
  for await (const c of res.body) {
    if (!firstOutAt) firstOutAt = Date.now();
    const s = rest + c.toString();
    const parts = s.split('\n');
    rest = parts.pop()!;
    for (const p of parts) { lines++; if (p.endsWith(',ALLOW,CONSENT_ONAY')) allow++; }
  }
  t.equal(lines, N, 'one output line per input line');
  t.equal(allow, N / 10, 'every 10th line is the consenting number');
  t.ok(firstOutAt > 0 && firstOutAt <= sentAll, 'first output arrived before the upload finished (streamed)');
});

t.test('scrubLines and recipientOfLine', async (t) => {
  t.equal(recipientOfLine('"+90 555 000 00 01";x'), '+90 555 000 00 01');
  t.equal(recipientOfLine('a@example.com\tAyşe'), 'a@example.com');
  const gw = await gateway(t);
  const stats = { lines: 0, allowed: 0, blocked: 0, header: false };
  let out = '';
  for await (const c of scrubLines(Readable.from(['05550000001\n0555', '0000002\n05550000003']), gw.checks, { brandCode: BRAND, type: 'ARAMA', messageType: 'TICARI', recipientType: 'BIREYSEL', annotate: false, batchSize: 1 }, stats)) out += c;
  t.equal(out, '05550000001\n05550000003', 'last line without newline is read (and comes back without one, as sent)');
  t.same(stats, { lines: 3, allowed: 2, blocked: 1, header: false });
});

t.test('scrubFile (iys-gate scrub FILE): same output, counts returned', async (t) => {
  const gw = await gateway(t);
  const dir = mkdtempSync(join(tmpdir(), 'scrub-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'list.csv');
  writeFileSync(file, 'phone\n05550000001\n05550000002\n05550000003\n');
  const out = new PassThrough();
  let text = '';
  out.on('data', (c) => (text += c));
  const stats = await scrubFile(file, gw.checks, { brandCode: BRAND, type: 'ARAMA', messageType: 'TICARI', recipientType: 'BIREYSEL', annotate: false, out, progress: false });
  t.equal(text, 'phone\n05550000001\n05550000003\n');
  t.same(stats, { lines: 3, allowed: 2, blocked: 1, header: true });
});

t.test('CSV routes refuse JSON bodies with 415 (newcomer trial: scrub answered 200 or 500)', async (t) => {
  const gw = await makeProxy(t, []);
  const auth = { authorization: `Bearer ${KEY}` };
  for (const payload of ['["05321220006","05321220001"]', '{"a":1}']) {
    const res = await gw.app.inject({ method: 'POST', url: `/v1/scrub?brandCode=${BRAND}&type=MESAJ&annotate=true`, headers: { ...auth, 'content-type': 'application/json' }, payload });
    t.equal(res.statusCode, 415, payload);
    t.equal(res.json().code, 'GW_ERR_UNSUPPORTED_MEDIA_TYPE');
  }
});
