import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killHard, startGatewayProcess } from '../helpers/process.ts';

const KEY = 'crash-test-key-0123456789';

t.test('refusals answered 2xx survive kill -9 the next instant, and a restart replays them', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-crash-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { IYS_GATE_DATA_DIR: dataDir, IYS_GATE_API_KEY: KEY, };
  const gw = await startGatewayProcess(env);
  t.teardown(() => killHard(gw.child));
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  const N = 40;
  const numbers = Array.from({ length: N }, (_, i) => `+90532777${String(i).padStart(4, '0')}`);
  const answers = await Promise.all(numbers.map((recipient) => fetch(gw.base + '/v1/rejections', {
    method: 'POST', headers, body: JSON.stringify({ brandCode: 42, recipient, type: 'MESAJ' }),
  }).then((r) => r.status)));
  await killHard(gw.child); // immediately after the last 2xx: no graceful close, no snapshot
  t.same(answers, numbers.map(() => 201), 'all acknowledged');

  const again = await startGatewayProcess(env);
  t.teardown(() => killHard(again.child));
  const batch = await fetch(again.base + '/v1/check/batch', {
    method: 'POST', headers, body: JSON.stringify({ brandCode: 42, type: 'MESAJ', recipients: numbers }),
  }).then((r) => r.json()) as { results: Array<{ reason: string }> };
  t.same(batch.results.map((r) => r.reason), numbers.map(() => 'CONSENT_RET'), 'every acknowledged refusal is back after the crash');
});
