/**
 * Issue 15: kill -9 during a proxy burst — every message that reached the stub upstream has its
 * decision record on disk (the record is committed before the message goes upstream).
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStub } from '../transports/harness.ts';
import { killHard, startGatewayProcess } from '../helpers/process.ts';
import { queryDecisions } from '../../src/check/decision-log/reader.ts';
import { verifyDecisionLogs } from '../../src/check/decision-log/verify.ts';

const KEY = 'crash-proxy-key-0123456789';
const HMAC = '7'.repeat(64);

t.test('kill -9 in a proxy burst: every forwarded message has its record', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-dcrash-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const received: string[][] = [];
  let gw: Awaited<ReturnType<typeof startGatewayProcess>> | null = null;
  let killed: Promise<void> | null = null;
  const stub = await startStub(t, (r, res) => {
    received.push((JSON.parse(r.body.toString()) as { recipients: string[] }).recipients);
    if (received.length === 12 && gw) killed = killHard(gw.child); // mid-burst, other requests in flight
    res.setHeader('content-type', 'application/json'); res.end('{"accepted":true}');
  });
  const cfg = join(dataDir, 'config.json');
  writeFileSync(cfg, JSON.stringify({
    store: 'memory', logLevel: 'warn',
    apiKeys: [{ name: 'sender', key: KEY, brands: [700001], scopes: ['proxy'] }],
    upstreams: [{ name: 'hook', adapter: 'webhook', url: stub.url + '/h', brandCode: 700001 }],
    decisions: { hmacKeys: [{ id: 4, key: HMAC }], log: 'sends' },
  }));
  gw = await startGatewayProcess({ IYS_GATE_DATA_DIR: dataDir, IYS_GATE_CONFIG: cfg });
  const base = gw.base;
  const sends = Array.from({ length: 40 }, (_, i) => fetch(`${base}/proxy/hook`, {
    method: 'POST', headers: { 'x-iys-gate-key': KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'MESAJ', messageType: 'TICARI', recipientType: 'TACIR', recipients: [`0555${String(1000000 + i * 2)}`, `0555${String(1000001 + i * 2)}`], message: 'Toplantı' }),
  }).then((r) => r.status, () => 'cut'));
  const statuses = await Promise.all(sends);
  await killed;
  t.ok(received.length >= 12, `${received.length} messages reached the upstream before the kill`);
  t.ok(statuses.includes('cut'), 'the kill cut requests in flight');
  const dir = join(dataDir, 'decisions');
  const v = verifyDecisionLogs([dir]);
  t.equal(v.ok, true, `chain intact after kill -9: ${JSON.stringify(v.breaks)}`);
  const keys = { hmacKeys: [{ id: 4, key: Buffer.from(HMAC, 'hex') }] };
  let missing = 0;
  for (const recipients of received) {
    for (const r of recipients) {
      const found = queryDecisions([dir], { recipient: r, type: 'MESAJ' }, keys, { limit: 10 }).decisions;
      if (!found.some((d) => d.entrance === 'proxy' && d.decision === 'ALLOW' && d.via === 'hook')) missing++;
    }
  }
  t.equal(missing, 0, `all ${received.length * 2} forwarded recipients have their record`);
  t.equal(v.records >= received.length * 2, true, `${v.records} records on disk`);
});
