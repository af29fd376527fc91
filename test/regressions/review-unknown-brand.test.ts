// Issue 10 item 11, found by review: a typo'd brandCode (700011 for 700001) answered BLOCK
// NO_CONSENT silently — a decision about a brand the gateway does not serve. When the gateway knows
// its brands (`brands`, `iys.brands`; a key's own list refuses with 403 already), a brand outside
// them is 400 GW_ERR_UNKNOWN_BRAND on every entrance, and a config naming one fails at boot.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config/load.ts';
import { makeGateway } from '../helpers/gateway.ts';
import { startStub } from '../transports/harness.ts';

const SERVED = 700001;
const TYPO = 700011;
const KEY_NARROW = 'narrow-key-0123456789abcdef';

t.test('a brand the gateway does not serve is a coded 400 on every entrance, never a decision', async (t) => {
  const stub = await startStub(t);
  const gw = await makeGateway(t, {
    brands: [SERVED, 700002],
    apiKeys: [{ name: 'narrow', key: KEY_NARROW, brands: [SERVED], scopes: '*' }],
    upstreams: [{ name: 'hook', adapter: 'webhook', url: stub.url, brandCode: SERVED }],
  });
  const r = '05321234567';
  const csv = { 'content-type': 'text/csv' };
  const entrances: Array<[string, 'GET' | 'POST', string, unknown, Record<string, string>?]> = [
    ['check', 'POST', '/v1/check', { brandCode: TYPO, recipient: r, type: 'MESAJ' }],
    ['informational check', 'POST', '/v1/check', { brandCode: TYPO, recipient: r, type: 'MESAJ', messageType: 'BILGILENDIRME' }],
    ['batch', 'POST', '/v1/check/batch', { brandCode: TYPO, type: 'MESAJ', recipients: [r] }],
    ['rejections', 'POST', '/v1/rejections', { brandCode: TYPO, recipient: r, type: 'MESAJ' }],
    ['consents read', 'GET', `/v1/consents?brandCode=${TYPO}&type=MESAJ&recipient=${r}`, undefined],
    ['consents write', 'POST', '/v1/consents', { brandCode: TYPO, recipient: r, type: 'MESAJ', status: 'RET', source: 'HS_WEB', consentDate: '2026-11-28 10:00:00' }],
    ['import', 'POST', `/v1/mirror/import?brandCode=${TYPO}`, 'creationDate,transactionId,recipient,recipientType,type,status,consentDate,source\n', csv],
    ['scrub', 'POST', `/v1/scrub?brandCode=${TYPO}&type=MESAJ`, `${r}\n`, csv],
    ['send', 'POST', '/v1/send', { brandCode: TYPO, type: 'MESAJ', recipients: [r], message: 'hi' }],
  ];
  for (const [name, method, url, body, headers] of entrances) {
    const res = await gw.call(method, url, body, headers ?? {});
    t.equal(res.status, 400, `${name}: 400`);
    t.equal(res.body.code, 'GW_ERR_UNKNOWN_BRAND', `${name}: coded`);
    t.equal(res.body.field, 'brandCode', name);
    t.match(res.body.message, /700011 is not a brand this gateway serves \(700001, 700002\)/, name);
    t.notOk('decision' in (typeof res.body === 'object' ? res.body : {}), `${name}: no decision`);
  }
  // the proxy: a brandCode in the provider body (webhook shape)
  const px = await gw.app.inject({ method: 'POST', url: '/proxy/hook', headers: { 'x-iys-gate-key': 'test-key-0123456789abcdef', 'content-type': 'application/json' }, payload: { brandCode: TYPO, type: 'MESAJ', recipients: [r], message: 'hi' } });
  t.equal(px.statusCode, 400, 'proxy: a typo\'d brandCode in the provider body');
  t.equal(px.json().code, 'GW_ERR_UNKNOWN_BRAND');
  t.equal(stub.requests.length, 0, 'nothing sent');
  // a key with its own brand list: the typo is outside it, 403
  const narrow = await gw.call('POST', '/v1/check', { brandCode: TYPO, recipient: r, type: 'MESAJ' }, { authorization: `Bearer ${KEY_NARROW}` });
  t.equal(narrow.status, 403);
  t.equal(narrow.body.code, 'GW_ERR_FORBIDDEN');
  // the served brands still decide
  const ok = await gw.call('POST', '/v1/check', { brandCode: SERVED, recipient: r, type: 'MESAJ' });
  t.same([ok.status, ok.body.decision, ok.body.reason], [200, 'BLOCK', 'NO_CONSENT']);
  t.equal((await gw.call('POST', '/v1/check', { brandCode: 700002, recipient: r, type: 'MESAJ' })).status, 200);
});

t.test('iys.brands alone declare the served brands; without any declaration every brand is taken', async (t) => {
  const gw = await makeGateway(t, { mirrorMaxAgeMs: 0, iys: { baseUrl: 'http://127.0.0.1:9', iysCode: SERVED, username: 'u', password: 'p', brands: [SERVED], pullIntervalMs: 0, uploadIntervalMs: 0, reconcileDaily: false } });
  const typo = await gw.call('POST', '/v1/check', { brandCode: TYPO, recipient: '05321234567', type: 'MESAJ' });
  t.same([typo.status, typo.body.code], [400, 'GW_ERR_UNKNOWN_BRAND']);
  const implicit = await gw.call('POST', '/v1/check', { recipient: '05321234567', type: 'MESAJ' });
  t.equal(implicit.status, 200, 'a * key may omit brandCode when one brand is served');
  const open = await makeGateway(t);
  t.equal((await open.call('POST', '/v1/check', { brandCode: TYPO, recipient: '05321234567', type: 'MESAJ' })).status, 200, 'no declared brands: unchanged (README: declare `brands` to get the check)');
});

t.test('a configuration naming a brand outside the served ones does not start', async (t) => {
  const base = { brands: [SERVED] };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an upstream brandCode', { ...base, upstreams: [{ name: 'n', adapter: 'netgsm', url: 'http://127.0.0.1:9', brandCode: TYPO }] }, /upstreams\.0\.brandCode: n sends for brand 700011/],
    ['a key\'s brand', { ...base, apiKeys: [{ name: 'k', key: 'k-0123456789abcdef', brands: [SERVED, TYPO] }] }, /apiKeys\.0\.brands: k holds brand 700011/],
    ['an upstream against iys.brands', { iys: { baseUrl: 'http://127.0.0.1:9', iysCode: 1, username: 'u', password: 'p', brands: [SERVED] }, upstreams: [{ name: 'n', adapter: 'netgsm', url: 'http://127.0.0.1:9', brandCode: TYPO }] }, /upstreams\.0\.brandCode/],
  ];
  for (const [name, overrides, msg] of cases) {
    let err: (Error & { code?: string }) | undefined;
    try { loadConfig({ env: {}, overrides: overrides as never }); } catch (e) { err = e as Error & { code?: string }; }
    t.equal(err?.code, 'GW_ERR_CONFIG_INVALID', name);
    t.match(err?.message, msg, name);
  }
  t.ok(loadConfig({ env: {}, overrides: { ...base, upstreams: [{ name: 'n', adapter: 'netgsm', url: 'http://127.0.0.1:9', brandCode: SERVED }] } }), 'a served upstream brand starts');
});

t.test('the command line: a typo\'d --brand-code is refused before the store opens', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-brand-cli-'));
  const cfg = join(dir, 'c.json');
  writeFileSync(cfg, JSON.stringify({ brands: [SERVED], dataDir: join(dir, 'data') }));
  writeFileSync(join(dir, 'list.csv'), '05321234567\n');
  const root = new URL('../../', import.meta.url).pathname;
  const err = await promisify(execFile)(process.execPath, ['bin/iys-gate.js', 'scrub', join(dir, 'list.csv'), '--brand-code', String(TYPO), '--type', 'MESAJ', '--config', cfg, '--no-progress'], { cwd: root, timeout: 30_000 })
    .then(() => null, (e: { code: number; stderr: string }) => e);
  t.equal(err?.code, 1);
  t.match(err?.stderr, /iys-gate: GW_ERR_UNKNOWN_BRAND: brandCode 700011 is not a brand this gateway serves/);
});
