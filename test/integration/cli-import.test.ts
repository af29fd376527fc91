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
