// Attack review of 2026-12-02 on streamed campaign lists (issue 19): malformed bodies through the
// streaming splitter get a coded 4xx, nothing reaches the upstream, the gateway keeps serving and
// the spool directory is removed.
import t from 'tap';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BRAND, KEY, makeProxy, startStub } from '../transports/harness.ts';

const ONAY = '905550000001';
const privateTmp = mkdtempSync(join(tmpdir(), 'iysgate-review-malformed-'));
const previousTmp = process.env.TMPDIR;
process.env.TMPDIR = privateTmp;
t.teardown(() => { if (previousTmp === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = previousTmp; rmSync(privateTmp, { recursive: true, force: true }); });
const spools = () => readdirSync(privateTmp).filter((f) => f.startsWith('iys-gate-list-')).length;

t.test('malformed streamed lists: coded 400, nothing forwarded, spool removed, gateway alive', async (t) => {
  const stub = await startStub(t, (_r, res) => { res.setHeader('content-type', 'text/plain'); res.end('1'); });
  const gw = await makeProxy(t, [{ name: 'vs', adapter: 'verimor-switch', url: stub.url, brandCode: BRAND }], { config: { listStream: { streamAboveBytes: 0, batchSize: 3 } } });
  await gw.seed([{ recipient: '+' + ONAY, status: 'ONAY', type: 'ARAMA' }]);
  const post = (payload: string | Buffer) => gw.app.inject({ method: 'POST', url: '/proxy/vs/ivr_campaigns.json', headers: { 'x-iys-gate-key': KEY, 'content-type': 'application/json' }, payload });
  const e = `{"phone":"${ONAY}"}`;
  const cases: [string, string | Buffer][] = [
    ['100,000 nested [ in the list', `{"key":"K","phone_list":[${'['.repeat(100_000)}`],
    ['100,000 nested [ closed', `{"key":"K","phone_list":[${'['.repeat(100_000)}${']'.repeat(100_000)}]}`],
    ['an unterminated string in an entry', `{"key":"K","phone_list":[${e},{"phone":"${ONAY}]}`],
    ['an unterminated string in the head', `{"key":"K,"phone_list":[${e}]}`],
    ['a NUL byte in an entry', `{"key":"K","phone_list":[${e},{"phone":"${ONAY}\u0000"}]}`],
    ['a raw NUL between entries', `{"key":"K","phone_list":[${e},\u0000${e}]}`],
    ['nothing after the list', `{"key":"K","phone_list":[${e}]`],
    ['two bodies', `{"key":"K","phone_list":[${e}]}{"key":"K","phone_list":[${e}]}`],
    ['a list that is not an array', `{"key":"K","phone_list":{"0":${e}}}`],
    ['empty body', ''],
  ];
  for (const [what, body] of cases) {
    const r = await post(body);
    t.ok(r.statusCode >= 400 && r.statusCode < 500, `${what}: ${r.statusCode} ${r.body.slice(0, 160)}`);
    t.match(r.json().code, /^GW_ERR_/, `${what}: coded`);
  }
  t.equal(stub.requests.length, 0, 'nothing forwarded');
  // valid JSON the gateway reads without recursion: deep nesting in the head is parsed, not a crash (JSON.parse, no recursive key scan overflow)
  const deep = await post(`{"key":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)},"is_commercial":true,"phone_list":[${e}]}`);
  t.equal(deep.statusCode, 200, '100,000 nested objects in the head: screened and forwarded, no 5xx');
  t.equal(stub.requests.length, 1);
  // invalid UTF-8 inside a number: that entry is not a phone and is removed, the bytes never reach the upstream
  const bad = Buffer.concat([Buffer.from(`{"key":"K","is_commercial":true,"phone_list":[${e},{"phone":"${ONAY.slice(0, 6)}`), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(`${ONAY.slice(6)}"}]}`)]);
  const u = await post(bad);
  t.equal(u.statusCode, 200);
  t.equal(u.headers['x-iys-gate-counts'], 'received=2, forwarded=1, removed=1', 'the unreadable number removed');
  t.notOk(stub.requests.at(-1)!.body.includes(Buffer.from([0xff, 0xfe])), 'the invalid bytes not forwarded');
  for (let i = 0; i < 100 && spools() > 0; i++) await new Promise((res) => setTimeout(res, 20));
  t.equal(spools(), 0, 'every spool directory removed');
  const ok = await post(`{"key":"K","is_commercial":true,"phone_list":[${e},${e}]}`);
  t.equal(ok.statusCode, 200, 'the gateway still serves');
});
