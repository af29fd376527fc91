// Issue 17: upload jobs and removal reports of a fleet are not pets either. Two gateway processes
// on one private redis-server and the İYS simulator: an upload job started on the leader A, A
// killed with kill -9 while the job waits for İYS's batch results and its data directory
// deleted; B takes the lease, resumes the job from its stored progress and finishes it: every
// line registered once at the simulator, the job and its per-line report found from B and from
// an instance started afterwards on an empty data directory, as is a proxy removal report made
// on another instance.
import t from 'tap';
import { rmSync } from 'node:fs';
import { killHard } from '../helpers/process.ts';
import { redisAvailable, startRedis } from '../helpers/redis-server.ts';
import { FLEET_BRAND, FLEET_KEY, LEASE_MS, agreedLeader, startFleet, until, type Instance } from '../helpers/fleet.ts';

t.setTimeout(300_000);
const ROWS = 2500;
const csv = ['recipient,type,source,status,consentDate,recipientType',
  ...Array.from({ length: ROWS }, (_, i) => `0532${String(6_000_000 + i)},MESAJ,HS_WEB,ONAY,${new Date(Date.now() + 3 * 3_600_000 - 3_600_000).toISOString().slice(0, 19).replace('T', ' ')},BIREYSEL`),
  '05321112005,SMS,HS_WEB,ONAY,2026-03-11 10:00:00,BIREYSEL', // invalid: H117
].join('\n') + '\n';

const get = async (inst: Instance, path: string) => {
  const res = await fetch(inst.base + path, { headers: { authorization: `Bearer ${FLEET_KEY}`, 'x-iys-gate-key': FLEET_KEY } });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
};

const avail = redisAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  t.test('an upload job survives its instance (kill -9, data directory deleted); jobs and reports found from any instance', async (t) => {
    const redis = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    t.teardown(() => redis.cleanup());
    // batches take 3 s at the simulator, so the job is still polling when its leader dies
    const f = await startFleet({
      redisUrl: redis.url, cluster: false, keyPrefix: 'fleetj:', batchDelayMs: 3000, teardown: (fn) => t.teardown(fn),
      config: { upstreams: [{ name: 'netgsm', adapter: 'netgsm', url: 'http://127.0.0.1:9', brandCode: FLEET_BRAND }] },
    });
    let live: Instance[] = await Promise.all([f.start(), f.start()]);
    const a = await agreedLeader(live, 10_000);
    const b = live.find((i) => i !== a)!;

    // the job, posted to the leader A
    const post = await fetch(`${a.base}/v1/iys/uploads?brandCode=${FLEET_BRAND}`, { method: 'POST', headers: { authorization: `Bearer ${FLEET_KEY}`, 'content-type': 'text/csv' }, body: csv });
    t.equal(post.status, 202, 'job accepted');
    const id = ((await post.json()) as { id: string }).id;
    // found from B while A runs it; every batch sent (requestIds stored), results not ready yet
    const running = await until('all batches sent', 30_000, async () => {
      const r = await get(b, `/v1/iys/uploads/${id}`);
      const j = r.status === 200 ? JSON.parse(r.text) : null;
      return j && j.progress.sent === ROWS && j.state === 'running' ? j : undefined;
    });
    t.equal(running.instanceId, a.id, 'B reads the job A is running');
    t.equal((await get(b, `/v1/iys/uploads/${id}/report`)).status, 404, 'no report yet');

    await killHard(a.child);
    const killedAt = Date.now();
    rmSync(a.dataDir, { recursive: true, force: true });
    live = [b];
    const next = await agreedLeader(live, 10_000, a.id);
    t.ok(next.since - killedAt <= LEASE_MS, `B leads ${next.since - killedAt} ms after the kill (leaseMs ${LEASE_MS})`);
    const done = await until('the job finished by B', 60_000, async () => {
      const r = await get(b, `/v1/iys/uploads/${id}`);
      const j = r.status === 200 ? JSON.parse(r.text) : null;
      return j && j.state !== 'running' ? { ...j, at: Date.now() } : undefined;
    });
    t.comment(`job finished ${done.at - killedAt} ms after the kill (results ready 3 s after the batches)`);
    t.ok(done.resumed >= 1, `taken up by another instance (resumed ${done.resumed})`);
    t.match(done, { state: 'done', instanceId: b.id, summary: { rows: ROWS + 1, invalid: 1, sent: ROWS, registered: ROWS, failed: 0, pending: 0 } }, 'resumed by B, every line registered');

    // found from an instance started afterwards on an empty data directory
    const c = await f.start();
    live.push(c);
    const listed = JSON.parse((await get(c, '/v1/iys/uploads')).text) as { jobs: Array<{ id: string; state: string; report: string | null }> };
    t.match(listed.jobs.find((j) => j.id === id), { state: 'done', report: `/v1/iys/uploads/${id}/report` }, 'listed by a new instance');
    const rep = await get(c, `/v1/iys/uploads/${id}/report`);
    t.equal(rep.status, 200);
    const lines = rep.text.trim().split('\n').slice(1).map((l) => l.split(','));
    t.equal(lines.length, ROWS + 1, 'a report line per row');
    t.same(lines.filter((l) => l[2] !== 'registered').map((l) => [l[2], l[3]]), [['invalid', 'H117']], 'every valid line registered, the bad one H117');
    const per = new Map<string, number>();
    for (const m of f.sim.ctx.state.movements) if (m.brandCode === FLEET_BRAND && m.recipient.startsWith('+90532600') && m.recipient.length === 13) per.set(m.recipient, (per.get(m.recipient) ?? 0) + 1);
    t.equal(per.size, ROWS, `all ${ROWS} recipients at the simulator`);
    t.same([...per.values()].filter((n) => n !== 1), [], 'each recorded by İYS exactly once (B polled the batches A sent, sent none again)');

    // a proxy removal report made on B is found from C
    const send = await fetch(`${b.base}/proxy/netgsm/sms/rest/v2/send`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-iys-gate-key': FLEET_KEY },
      body: JSON.stringify({ msgheader: 'FIRMA', iysfilter: '11', messages: [{ msg: 'Yeni sezon ürünleri geldi.', no: '5329990001' }] }),
    });
    t.equal(send.status, 422, 'no consent: nothing forwarded');
    const rid = send.headers.get('x-iys-gate-report');
    t.ok(rid, 'report id');
    const found = await until('the report from C', 5_000, async () => {
      const r = await get(c, `/proxy/_reports/${rid}`);
      return r.status === 200 ? JSON.parse(r.text) : undefined;
    });
    t.match(found, { id: rid, upstream: 'netgsm', outcome: 'not-forwarded', counts: { received: 1, forwarded: 0, removed: 1 }, removed: [{ reason: 'NO_CONSENT' }] }, 'the removal report, from another instance');
  });
}
