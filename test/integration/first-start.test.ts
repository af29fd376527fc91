import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killHard, startGatewayProcess } from '../helpers/process.ts';

t.test('first start without any key generates one, prints it once, stores only its hash', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-first-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { IYS_GATE_DATA_DIR: dataDir, IYS_GATE_API_KEY: '' };
  const a = await startGatewayProcess(env, 'source'); // what `npm start` runs (README "Quick start")
  t.teardown(() => killHard(a.child));
  await new Promise((r) => setTimeout(r, 200));
  const m = /IYS_GATE_API_KEY=(\S+)/.exec(a.output());
  t.ok(m, 'key printed');
  const key = m![1]!;
  const stored = readFileSync(join(dataDir, 'api-keys.json'), 'utf8');
  t.notOk(stored.includes(key), 'the key itself is not stored');
  t.match(stored, /"keyHash": "[0-9a-f]{64}"/);
  const ok = await fetch(a.base + '/v1/check', {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ brandCode: 1, recipient: '05321234567', type: 'MESAJ' }),
  });
  t.equal(ok.status, 200, 'the printed key works');
  const none = await fetch(a.base + '/v1/check', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal(none.status, 401, 'no unauthenticated mode');
  a.child.kill('SIGTERM');
  await new Promise((r) => a.child.once('exit', r));
  const b = await startGatewayProcess(env);
  t.teardown(() => killHard(b.child));
  await new Promise((r) => setTimeout(r, 200));
  t.notMatch(b.output(), /IYS_GATE_API_KEY=/, 'printed only once');
  const again = await fetch(b.base + '/v1/check', {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ brandCode: 1, recipient: '05321234567', type: 'MESAJ' }),
  });
  t.equal(again.status, 200, 'the key survives a restart');
});
