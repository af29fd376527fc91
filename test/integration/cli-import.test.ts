import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { killHard, startGatewayProcess } from '../helpers/process.ts';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const sample = join(root, 'test/fixtures/iys-daily-sample.csv');

t.test('iys-gate import FILE --brand-code N loads the mirror a gateway then serves', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-cli-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { ...process.env, IYS_GATE_DATA_DIR: dataDir };
  const { stdout } = await run(process.execPath, ['bin/iys-gate.js', 'import', sample, '--brand-code', '100003'], { cwd: root, env });
  const report = JSON.parse(stdout);
  t.same([report.rows, report.rejected, report.layout], [12, 0, 'daily']);
  t.equal(report.applied + report.ignoredOlder, 12);
  const gw = await startGatewayProcess({ IYS_GATE_DATA_DIR: dataDir, IYS_GATE_API_KEY: 'cli-test-key-0123456789' });
  t.teardown(() => killHard(gw.child));
  const r = await fetch(gw.base + '/v1/check', {
    method: 'POST', headers: { authorization: 'Bearer cli-test-key-0123456789', 'content-type': 'application/json' },
    body: JSON.stringify({ brandCode: 100003, recipient: '05321220006', type: 'MESAJ' }),
  }).then((x) => x.json()) as { decision: string; reason: string; asOf: string | null };
  t.same([r.decision, r.reason], ['ALLOW', 'CONSENT_ONAY']);
  t.type(r.asOf, 'string', 'import marks the mirror fresh');
  // while the gateway runs, a CLI import on the same data directory is refused
  const busy = await run(process.execPath, ['bin/iys-gate.js', 'import', sample, '--brand-code', '100003'], { cwd: root, env }).then(() => null, (e: { code: number; stderr: string }) => e);
  t.ok(busy, 'refused');
  t.match(busy?.stderr, /in use by process/);
});

t.test('usage errors', async (t) => {
  const r = await run(process.execPath, ['bin/iys-gate.js', 'import'], { cwd: root }).then(() => null, (e: { code: number; stderr: string }) => e);
  t.equal(r?.code, 2);
  t.match(r?.stderr, /usage: iys-gate import FILE --brand-code N/);
});

t.test('iys-gate sync status prints every brand and the outbox of a running gateway', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-cli-status-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const { writeFileSync } = await import('node:fs');
  const cfg = join(dataDir, 'c.json');
  writeFileSync(cfg, JSON.stringify({ iys: { baseUrl: 'http://127.0.0.1:9', iysCode: 700001, username: 'u', password: 'p', brands: [700001, 700002], pullIntervalMs: 0, uploadIntervalMs: 0, reconcileDaily: false } }));
  const key = 'status-test-key-0123456789';
  const gw = await startGatewayProcess({ IYS_GATE_DATA_DIR: dataDir, IYS_GATE_API_KEY: key, IYS_GATE_CONFIG: cfg });
  const port = new URL(gw.base).port; // the CLI finds the gateway from the same config + env as the server
  t.teardown(() => killHard(gw.child));
  await fetch(gw.base + '/v1/rejections', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ brandCode: 700001, recipient: '05321231234', type: 'MESAJ' }) });
  const { stdout } = await run(process.execPath, ['bin/iys-gate.js', 'sync', 'status', '--config', cfg], { cwd: root, env: { ...process.env, IYS_GATE_API_KEY: key, IYS_GATE_PORT: port } });
  t.match(stdout, /İYS configured: true\s+mirror asOf: never\s+STALE/);
  t.match(stdout, /brand 700001: last pull never/);
  t.match(stdout, /brand 700002: last pull never/);
  t.match(stdout, /outbox: 1 pending, 0 submitted, 0 failed, 0 overdue; nearest deadline \d{4}-\d{2}-\d{2}/);
  const down = await run(process.execPath, ['bin/iys-gate.js', 'sync', 'status', '--url', 'http://127.0.0.1:9'], { cwd: root, env: { ...process.env, IYS_GATE_API_KEY: key } }).then(() => null, (e: { code: number; stderr: string }) => e);
  t.equal(down?.code, 1);
  t.match(down?.stderr, /^iys-gate: GW_ERR_UNREACHABLE: no gateway answers at http:\/\/127\.0\.0\.1:9/);
});
