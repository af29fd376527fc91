// Issue 10 item 10, found by review: config/example.yaml shipped working keys (`change-me-…`, one
// with every scope) that stayed valid beside IYS_GATE_API_KEY and beside an earlier generated key,
// while the README said the environment overrides the file. Now: no example holds a usable secret
// (a placeholder key stops the start, GW_ERR_CONFIG_INVALID), and exactly the documented keys are
// live — config `apiKeys` plus IYS_GATE_API_KEY; the generated key only while neither gives one.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { loadConfig } from '../../src/config/load.ts';
import { KeyRing } from '../../src/plugins/api-keys.ts';
import { makeGateway } from '../helpers/gateway.ts';

const root = new URL('../../', import.meta.url).pathname;
const example = join(root, 'config/example.yaml');
const sha = (k: string) => createHash('sha256').update(k).digest('hex');
const refused = (fn: () => unknown) => { try { fn(); return null; } catch (e) { return e as Error & { code?: string }; } };

t.test('the example configuration ships no usable key, and its keys uncommented do not start', async (t) => {
  const c = loadConfig({ file: example, env: {} });
  t.same(c.apiKeys, [], 'no key in the shipped file');
  // a user uncomments the example's keys block as it stands
  const lines = readFileSync(example, 'utf8').split('\n');
  let at = lines.indexOf('# apiKeys:');
  t.ok(at > 0, 'the example shows the apiKeys block');
  lines[at] = 'apiKeys:';
  while (/^# {3}/.test(lines[++at] ?? '')) lines[at] = lines[at]!.slice(2);
  const text = lines.join('\n');
  t.match(text, /^apiKeys:\n {2}- name: operator\n {4}key: change-me/m, 'the block uncommented');
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-keys-'));
  writeFileSync(join(dir, 'c.yaml'), text);
  const err = refused(() => loadConfig({ file: join(dir, 'c.yaml'), env: {} }));
  t.equal(err?.code, 'GW_ERR_CONFIG_INVALID');
  t.match(err?.message, /apiKeys\.0\.key: operator uses a placeholder secret/);
  t.match(err?.message, /apiKeys\.1/, 'the sms-platform entry too');
});

t.test('every placeholder from the documentation is refused, in any place a secret goes', async (t) => {
  const cases: Array<[string, Record<string, string>, Record<string, unknown>, RegExp]> = [
    ['the old example operator key', {}, { apiKeys: [{ name: 'operator', key: 'change-me-operator-key-0123456789', scopes: '*' }] }, /apiKeys\.0\.key/],
    ['the old sms-platform key', {}, { apiKeys: [{ name: 'sms', key: 'change-me-sms-platform-key-0123456789', brands: [700001], scopes: ['check'] }] }, /apiKeys\.0\.key/],
    ['its hash', {}, { apiKeys: [{ name: 'operator', keyHash: sha('change-me-operator-key-0123456789') }] }, /apiKeys\.0\.key/],
    ['upper case', {}, { apiKeys: [{ name: 'x', key: 'CHANGE-ME-0123456789abcdef' }] }, /apiKeys\.0\.key/],
    ['no dash', {}, { apiKeys: [{ name: 'x', key: 'changeme0123456789abcdef' }] }, /apiKeys\.0\.key/],
    ['README env example', { IYS_GATE_API_KEY: 'local-key-0123456789' }, {}, /env:IYS_GATE_API_KEY uses a placeholder/],
    ['README quick start example', { IYS_GATE_API_KEY: 'some-long-secret' }, {}, /placeholder/],
    ['push password', { IYS_GATE_API_KEY: 'a-real-secret-0123456789' }, { iys: { baseUrl: 'http://127.0.0.1:9', iysCode: 1, username: 'u', password: 'p', brands: [1], push: { username: 'iys', password: 'change-me-push-secret' } } }, /iys\.push\.password/],
    ['metrics password', {}, { metricsAuth: { username: 'prom', password: 'change-me-metrics-0123' } }, /metricsAuth\.password/],
  ];
  for (const [name, env, overrides, msg] of cases) {
    const err = refused(() => loadConfig({ env, overrides: overrides as never }));
    t.equal(err?.code, 'GW_ERR_CONFIG_INVALID', name);
    t.match(err?.message, msg, name);
  }
  t.equal(loadConfig({ env: { IYS_GATE_API_KEY: 'an-own-secret-0123456789' } }).apiKeys.length, 1, 'a key of one\'s own starts');
});

t.test('no secret of the README or config/ is a usable key', async (t) => {
  const docs = [readFileSync(join(root, 'README.md'), 'utf8'), readFileSync(example, 'utf8')].join('\n');
  const literals = [...docs.matchAll(/IYS_GATE_API_KEY=([^\s`$"')]+)/g), ...docs.matchAll(/^\s*#?\s*key: (\S+)/gm)].map((m) => m[1]!);
  t.ok(literals.length >= 1, `literals found: ${literals.join(', ')}`);
  for (const k of literals) {
    if (k.length < 16 || k.startsWith('<') || k === '...') continue; // not a key zod would take
    const err = refused(() => loadConfig({ env: { IYS_GATE_API_KEY: k } }));
    t.equal(err?.code, 'GW_ERR_CONFIG_INVALID', `${k} from the docs is refused`);
  }
});

t.test('which keys are live: config keys and IYS_GATE_API_KEY together; the generated key only alone', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-keys-'));
  // an earlier first start without keys generated one
  const first = new KeyRing(loadConfig({ env: {}, overrides: { dataDir } }));
  const generated = first.ensureKey();
  t.match(generated, /^igw_/);
  t.equal(first.verify(generated!)?.name, 'generated');
  t.equal(new KeyRing(loadConfig({ env: {}, overrides: { dataDir } })).verify(generated!)?.name, 'generated', 'still live while no key is configured');
  t.equal(new KeyRing(loadConfig({ env: {}, overrides: { dataDir } })).ensureKey(), null, 'not generated twice');

  const ENV = 'env-key-0123456789abcdef';
  const FILE = 'file-key-0123456789abcdef';
  const cfg = loadConfig({ env: { IYS_GATE_API_KEY: ENV }, overrides: { dataDir, apiKeys: [{ name: 'partner', key: FILE, brands: [700001], scopes: ['check'] }] } });
  const ring = new KeyRing(cfg);
  t.same(ring.names, ['partner', 'env:IYS_GATE_API_KEY'], 'exactly these are live');
  t.equal(ring.verify(ENV)?.name, 'env:IYS_GATE_API_KEY');
  t.same(ring.verify(ENV)?.scopes, '*');
  t.equal(ring.verify(FILE)?.name, 'partner', 'the environment adds its key; the file\'s stay');
  t.equal(ring.verify(generated!), null, 'the generated key is retired once keys are configured');
  t.equal(ring.ignoredGenerated, 1, 'and the boot log can say so');
  t.equal(ring.ensureKey(), null);
  const envOnly = new KeyRing(loadConfig({ env: { IYS_GATE_API_KEY: ENV }, overrides: { dataDir } }));
  t.equal(envOnly.verify(generated!), null, 'IYS_GATE_API_KEY alone retires it too');
  t.equal(envOnly.verify(FILE), null, 'a key removed from the file is gone');

  // the same over HTTP
  const gw = await makeGateway(t, { dataDir, apiKeys: [{ name: 'partner', key: FILE, brands: [700001], scopes: ['check'] }] });
  const check = (key: string) => gw.call('POST', '/v1/check', { brandCode: 700001, recipient: '05321234567', type: 'MESAJ' }, { authorization: `Bearer ${key}` });
  t.equal((await check(FILE)).status, 200);
  t.equal((await check(generated!)).status, 401);
  t.equal((await check(generated!)).body.code, 'GW_ERR_UNAUTHORIZED');
});

t.test('the process: a placeholder key stops the start; the boot log names the live keys', async (t) => {
  const { spawn } = await import('node:child_process');
  const { startGatewayProcess, killHard } = await import('../helpers/process.ts');
  const { sharedBundle } = await import('../helpers/gateway-bundle.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-keys-boot-'));
  // refused: exit 1 with the coded line, never listening
  const bad = spawn(process.execPath, [(await sharedBundle()).file], { // src/server.ts, bundled (gateway-bundle.ts)
    cwd: root, env: { ...process.env, IYS_GATE_PORT: '0', IYS_GATE_DATA_DIR: dataDir, IYS_GATE_API_KEY: 'change-me-operator-key-0123456789' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  bad.stderr.on('data', (d) => { err += d; });
  const timer = setTimeout(() => bad.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => bad.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  t.equal(code, 1);
  t.match(err, /^iys-gate: GW_ERR_CONFIG_INVALID: .*env:IYS_GATE_API_KEY uses a placeholder secret/m);
  // an earlier generated key, then a start with IYS_GATE_API_KEY: the log says which keys are live
  new KeyRing(loadConfig({ env: {}, overrides: { dataDir } })).ensureKey();
  const gw = await startGatewayProcess({ IYS_GATE_DATA_DIR: dataDir, IYS_GATE_API_KEY: 'boot-key-0123456789abcdef' });
  t.teardown(() => killHard(gw.child));
  t.match(gw.output(), /API keys live: env:IYS_GATE_API_KEY"/);
  t.match(gw.output(), /1 generated key\(s\) in .*api-keys\.json are no longer valid/);
  t.notMatch(gw.output(), /boot-key-0123456789abcdef/, 'never the key itself');
});
