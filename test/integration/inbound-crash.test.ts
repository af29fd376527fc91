/**
 * Issue 14: replies pushed by a provider and answered 2xx survive kill -9 the next instant (the
 * embedded LMDB store, the default): the refusals block after the restart, their outbox items
 * are there with their deadlines, and the deliveries are still known (a redelivery is a duplicate).
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killHard, startGatewayProcess } from '../helpers/process.ts';

const KEY = 'inbound-crash-key-0123456789';
const SECRET = 'inbound-crash-secret-0123456789';

t.test('pushed replies answered 2xx survive kill -9 right after the answer', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-inbound-crash-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = join(dataDir, 'config.json');
  writeFileSync(config, JSON.stringify({
    brands: [42],
    upstreams: [{ name: 'verimor', adapter: 'verimor', url: 'http://127.0.0.1:9/', brandCode: 42 }],
    inbound: { numbers: { '+908501234567': [42] }, upstreams: { verimor: { secret: SECRET } } },
  }));
  const env = { IYS_GATE_DATA_DIR: join(dataDir, 'data'), IYS_GATE_API_KEY: KEY, IYS_GATE_CONFIG: config };
  const gw = await startGatewayProcess(env);
  t.teardown(() => killHard(gw.child));
  const N = 200;
  const numbers = Array.from({ length: N }, (_, i) => `90532888${String(i).padStart(4, '0')}`);
  const deliveries = Array.from({ length: N / 20 }, (_, p) => numbers.slice(p * 20, p * 20 + 20).map((n, i) => ({
    message_id: p * 20 + i, type: 'inbound', received_at: '2026-03-12 09:00:00', source_addr: n, destination_addr: '908501234567', content: 'RET',
  })));
  const push = (body: unknown, base: string) => fetch(`${base}/v1/inbound/verimor/${SECRET}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answers = await Promise.all(deliveries.map((d) => push(d, gw.base).then((r) => r.status)));
  await killHard(gw.child); // immediately after the last 2xx
  t.same(answers, deliveries.map(() => 200), 'all acknowledged');

  const again = await startGatewayProcess(env);
  t.teardown(() => killHard(again.child));
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  const batch = await fetch(again.base + '/v1/check/batch', {
    method: 'POST', headers, body: JSON.stringify({ brandCode: 42, type: 'MESAJ', messageType: 'TICARI', recipients: numbers.map((n) => `+${n}`) }),
  }).then((r) => r.json()) as { results: Array<{ reason: string }> };
  t.same(batch.results.map((r) => r.reason), numbers.map(() => 'CONSENT_RET'), 'every acknowledged refusal is back after the crash');
  const outbox = await fetch(again.base + '/v1/outbox?limit=1000', { headers }).then((r) => r.json()) as { items?: Array<{ deadline: string; consent: { source: string } }> };
  const items = (outbox.items ?? []).filter((i) => i.consent.source === 'HS_MESAJ');
  t.equal(items.length, N, 'one outbox item per refusal');
  t.ok(items.every((i) => i.deadline === '2026-03-17'), 'each with its deadline');
  const redelivered = await push(deliveries[0], again.base).then((r) => r.json()) as { duplicate: number };
  t.equal(redelivered.duplicate, 20, 'a redelivery after the crash is a duplicate');
});
