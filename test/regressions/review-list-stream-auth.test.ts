// Found by the attack review of 2026-12-02 on streamed campaign lists (issue 19): the list body
// was spooled to disk before the gateway key was checked, so a client without a key could make
// the gateway write up to listStream.maxBodyBytes (64 MiB) per request. Now the key (and its
// brand) is checked before the body is read; a refused request is answered at once and nothing
// is written to the spool directory.
import t from 'tap';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BRAND, KEY, OTHER_BRAND_KEY, makeProxy, startStub } from '../transports/harness.ts';

const ONAY = '905550000001';

// a private tmpdir, so other test processes' spool directories are not counted (os.tmpdir() reads TMPDIR on each call)
const privateTmp = mkdtempSync(join(tmpdir(), 'iysgate-review-spool-'));
const previousTmp = process.env.TMPDIR;
process.env.TMPDIR = privateTmp;
t.teardown(() => { if (previousTmp === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = previousTmp; rmSync(privateTmp, { recursive: true, force: true }); });
const spools = () => readdirSync(privateTmp).filter((f) => f.startsWith('iys-gate-list-')).length;

/**
 * Starts a POST of `total` declared bytes, writes `sent` bytes of a campaign list and waits up to
 * `waitMs` for an answer (a refusal before the body ends). Returns the answer (or null) and the
 * spool directories seen meanwhile.
 */
async function partialUpload(url: string, headers: Record<string, string>, total: number, sent: number, waitMs: number) {
  const u = new URL(url);
  const head = `{"key":"K","is_commercial":true,"phone_list":[{"phone":"${ONAY}"}`;
  return new Promise<{ status: number | null; body: string; spoolsSeen: number }>((resolve) => {
    let spoolsSeen = 0;
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': String(total) } });
    let settled = false;
    const finish = (status: number | null, body: string) => { if (settled) return; settled = true; clearInterval(poll); clearTimeout(timer); req.destroy(); resolve({ status, body, spoolsSeen }); };
    const poll = setInterval(() => { spoolsSeen = Math.max(spoolsSeen, spools()); }, 10);
    const timer = setTimeout(() => finish(null, ''), waitMs);
    req.on('response', (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => finish(res.statusCode ?? null, body));
    });
    req.on('error', () => { /* the gateway may close the connection after answering */ });
    req.write(head);
    const filler = `,{"phone":"${ONAY}"}`.repeat(Math.ceil((sent - head.length) / 21)).slice(0, sent - head.length);
    req.write(filler);
  });
}

t.test('a list body over streamAboveBytes without a valid gateway key is refused before anything is spooled', async (t) => {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [{ name: 'vs', adapter: 'verimor-switch', url: stub.url, brandCode: BRAND }], { listen: true, config: { listStream: { streamAboveBytes: 1024 } } });
  const url = `${gw.url}/proxy/vs/ivr_campaigns.json`;
  const before = spools();
  for (const [what, headers, status, code] of [
    ['no key', {}, 401, 'GW_ERR_UNAUTHORIZED'],
    ['a wrong key', { 'x-iys-gate-key': 'not-a-key-at-all-0000000' }, 401, 'GW_ERR_UNAUTHORIZED'],
    ['a key of another brand', { 'x-iys-gate-key': OTHER_BRAND_KEY }, 403, 'GW_ERR_FORBIDDEN'],
  ] as const) {
    // 512 KiB of a declared 8 MiB sent, then the client waits: the refusal must come without the rest
    const r = await partialUpload(url, headers, 8 * 1024 * 1024, 512 * 1024, 3_000);
    t.equal(r.status, status, `${what}: answered ${status} before the body is complete`);
    t.match(r.body, new RegExp(code), what);
    t.equal(r.spoolsSeen, before, `${what}: no spool directory was created`);
  }
  t.equal(stub.requests.length, 0, 'nothing forwarded');

  // the authorised client still streams (the key is checked, not the stream broken)
  const big = `{"key":"K","is_commercial":true,"phone_list":[${Array.from({ length: 200 }, () => `{"phone":"${ONAY}"}`).join(',')}]}`;
  await gw.seed([{ recipient: '+' + ONAY, status: 'ONAY', type: 'ARAMA' }]);
  const ok = await gw.app.inject({ method: 'POST', url: '/proxy/vs/ivr_campaigns.json', headers: { 'x-iys-gate-key': KEY, 'content-type': 'application/json' }, payload: big });
  t.equal(ok.statusCode, 200, ok.body.slice(0, 200));
  t.equal(ok.headers['x-iys-gate-counts'], 'received=200, forwarded=200, removed=0');
  t.equal(stub.requests.length, 1);
});

t.test('gatewayAuth provider: a provider user in the query that is not allowed is refused before the body is spooled', async (t) => {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [{ name: 'vs', adapter: 'verimor-switch', url: stub.url, brandCode: BRAND, gatewayAuth: 'provider', providerUsers: ['K-allowed'] }],
    { listen: true, config: { listStream: { streamAboveBytes: 1024 } } });
  for (let i = 0; i < 200 && spools() > 0; i++) await new Promise((res) => setTimeout(res, 20)); // the previous test's spool is removed asynchronously
  const before = spools();
  const r = await partialUpload(`${gw.url}/proxy/vs/ivr_campaigns.json?key=K-stranger`, {}, 8 * 1024 * 1024, 512 * 1024, 3_000);
  t.equal(r.status, 401, 'answered before the body is complete');
  t.match(r.body, /GW_ERR_UNAUTHORIZED/, 'in Verimor\'s text shape with the gateway code');
  t.equal(r.spoolsSeen, before, 'no spool directory was created');
  t.equal(stub.requests.length, 0);
});

t.test('an authorised client that disconnects mid-upload leaves no spool directory and nothing forwarded', async (t) => {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [{ name: 'vs', adapter: 'verimor-switch', url: stub.url, brandCode: BRAND }], { listen: true, config: { listStream: { streamAboveBytes: 1024 } } });
  const r = await partialUpload(`${gw.url}/proxy/vs/ivr_campaigns.json`, { 'x-iys-gate-key': KEY }, 8 * 1024 * 1024, 512 * 1024, 1_000);
  t.equal(r.status, null, 'no answer while the body is incomplete');
  t.ok(r.spoolsSeen >= 1, 'the authorised upload was being spooled');
  for (let i = 0; i < 200 && spools() > 0; i++) await new Promise((res) => setTimeout(res, 20));
  t.equal(spools(), 0, 'the spool directory is removed after the disconnect');
  t.equal(stub.requests.length, 0, 'nothing forwarded');
});
