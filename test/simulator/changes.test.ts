import t from 'tap';
import { startTestSimulator, DEMO } from '../../src/simulator/testing.ts';

const START = '2026-05-12T20:32:17+03:00';
const P = `/sps/${DEMO.iysCode}/brands/${DEMO.brandCode}`;

async function seed(sim: Awaited<ReturnType<typeof startTestSimulator>>, recipient: string, creationDate: string, source = 'HS_WEB', status = 'ONAY') {
  const r = await sim.http('POST', '/_sim/movements', {
    brandCode: DEMO.brandCode, recipient, type: 'MESAJ', status, source, consentDate: creationDate, creationDate,
  });
  if (r.status !== 201) throw new Error(r.text);
  return r.body;
}

t.test('pull window: last 7 days minus the newest 60 minutes; 204 when empty (C30)', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: START, clockFrozen: true });
  t.teardown(() => sim.close());
  const auth = { authorization: `Bearer ${await sim.token()}` };
  t.equal((await sim.http('GET', `${P}/consents/changes?source=HS`, undefined, auth)).status, 204);
  await seed(sim, '+905321230001', '2026-05-05 20:30:00'); // > 7 days
  await seed(sim, '+905321230002', '2026-05-05 20:33:00'); // inside
  await seed(sim, '+905321230003', '2026-05-12 19:32:17'); // exactly 60 min old: inside
  await seed(sim, '+905321230004', '2026-05-12 19:40:00'); // hidden
  await seed(sim, '+905321230005', '2026-05-12 10:00:00', 'IYS_MOBIL', 'RET');
  const hs = await sim.http('GET', `${P}/consents/changes?source=HS`, undefined, auth);
  t.equal(hs.status, 200);
  t.same(hs.body.list.map((m: { recipient: string }) => m.recipient), ['+905321230002', '+905321230003']);
  const iys = await sim.http('GET', `${P}/consents/changes`, undefined, auth);
  t.same(iys.body.list.map((m: { recipient: string; source: string }) => [m.recipient, m.source]), [['+905321230005', 'IYS_MOBIL']], 'default source IYS');
  await sim.advance(10 * 60_000);
  const later = await sim.http('GET', `${P}/consents/changes?source=HS&after=${hs.body.after}`, undefined, auth);
  t.same(later.body.list.map((m: { recipient: string }) => m.recipient), ['+905321230004'], 'appears once 60 minutes old');
});

t.test('cursor pages without repeats; same-second movements sharing a transactionId stay together', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: START, clockFrozen: true });
  t.teardown(() => sim.close());
  const auth = { authorization: `Bearer ${await sim.token()}` };
  for (let i = 0; i < 5; i++) await seed(sim, `+90532123001${i}`, `2026-05-12 0${i}:00:00`);
  const a = await seed(sim, '+905321230099', '2026-05-12 06:00:00', 'HS_WEB', 'ONAY');
  const b = await seed(sim, '+905321230099', '2026-05-12 06:00:00', 'HS_WEB', 'RET');
  t.equal(a.transactionId, b.transactionId, 'same address+type in the same second share the transactionId');
  const seen: string[] = [];
  let after = '';
  for (let page = 0; page < 10; page++) {
    const r = await sim.http('GET', `${P}/consents/changes?source=HS&limit=2${after ? `&after=${after}` : ''}`, undefined, auth);
    if (r.status === 204) break;
    t.ok(r.body.list.length <= 2);
    t.match(r.body.after, /^\d+_[0-9a-f]{64}$/);
    seen.push(...r.body.list.map((m: { recipient: string; status: string }) => `${m.recipient}:${m.status}`));
    after = r.body.after;
  }
  t.equal(seen.length, 7);
  t.equal(new Set(seen).size, 7, 'no repeats');
  t.same(seen.slice(-2), ['+905321230099:ONAY', '+905321230099:RET']);
});

t.test('pull parameter errors H506 / H507', async (t) => {
  const sim = await startTestSimulator();
  t.teardown(() => sim.close());
  const auth = { authorization: `Bearer ${await sim.token()}` };
  const s = await sim.http('GET', `${P}/consents/changes?source=SH`, undefined, auth);
  t.equal(s.status, 422);
  t.same(s.body.errors[0].location, ['source']);
  t.equal(s.body.errors[0].code, 'H506');
  t.equal((await sim.http('GET', `${P}/consents/changes?limit=1500`, undefined, auth)).body.errors[0].code, 'H507');
});
