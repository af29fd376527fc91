import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.ts';

t.test('defaults, env overrides and freezing', async (t) => {
  const c = loadConfig({ env: { IYS_GATE_PORT: '9999', IYS_GATE_HOST: '0.0.0.0', IYS_GATE_DATA_DIR: '/tmp/x', IYS_GATE_API_KEY: 'k'.repeat(20) } });
  t.equal(c.port, 9999);
  t.equal(c.host, '0.0.0.0');
  t.equal(c.dataDir, '/tmp/x');
  t.equal(c.batchMaxRecipients, 10_000);
  t.equal(c.apiKeys.length, 1);
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.policy));
  const d = loadConfig({ env: {} });
  t.same([d.port, d.host, d.dataDir, d.redisUrl], [8080, '127.0.0.1', './data', undefined]);
});

t.test('a config file with unknown keys or bad values fails with every issue listed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-cfg-'));
  const f = join(dir, 'c.yaml');
  writeFileSync(f, 'port: -1\nbogus: 1\npolicy:\n  tacirWithoutRecord: maybe\n');
  let err: (Error & { code?: string }) | undefined;
  try { loadConfig({ file: f, env: {} }); } catch (e) { err = e as Error & { code?: string }; }
  t.equal(err?.code, 'GW_ERR_CONFIG_INVALID');
  t.match(err?.message, /port/);
  t.match(err?.message, /bogus/);
  t.match(err?.message, /tacirWithoutRecord/);
  const j = join(dir, 'c.json');
  writeFileSync(j, JSON.stringify({ iys: { baseUrl: 'http://127.0.0.1:8090', iysCode: 1, username: 'u', password: 'p', brands: [5] } }));
  t.same(loadConfig({ file: j, env: {} }).iys?.brands, [5]);
  t.throws(() => loadConfig({ file: join(dir, 'missing.json'), env: {} }), { code: 'GW_ERR_CONFIG_INVALID' });
});

t.test('config/example.yaml is valid as shipped', async (t) => {
  const c = loadConfig({ file: new URL('../config/example.yaml', import.meta.url).pathname, env: {} });
  t.equal(c.iys?.username, 'iys-demo', 'points at the simulator demo account');
  t.same(c.iys?.brands, [700001, 700002]);
  t.equal(c.apiKeys.length, 0, 'no usable key ships in the example (issue 10 item 10)');
  t.equal(c.redis.commandTimeoutMs, 30);
});
