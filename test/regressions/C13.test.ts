/**
 * C13 (field-cases.md): the pull API never shows the latest hour and only covers 7 days, so
 * "changes since 5 minutes ago" polling misses records and a long outage cannot be caught up by
 * the feed. iys-gate: persist the opaque `after` cursor (every movement then arrives exactly
 * once, each when it is 60 minutes old), detect a cursor older than the window (full resync),
 * send report dates as YYYY-MM-DD.
 */
import t from 'tap';
import { isCursorStale } from '../../src/iys/client.ts';
import { startTestSimulator, simulatorClient, DEMO } from '../../src/simulator/testing.ts';

t.test('5-minute polling with a stored cursor misses nothing and repeats nothing', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: '2026-05-12T10:00:00+03:00', clockFrozen: true });
  t.teardown(() => sim.close());
  const { client, now } = await simulatorClient(sim);
  let cursor: string | undefined;
  const received: { recipient: string; ageMs: number }[] = [];
  const created = new Map<string, number>();
  for (let tick = 0; tick < 36; tick++) { // 3 hours of 5-minute ticks
    if (tick < 12) { // citizens refuse through İYS during the first hour
      const r = `+9055500001${String(tick).padStart(2, '0')}`;
      await sim.http('POST', '/_sim/citizen', { brandCode: DEMO.brandCode, recipient: r, type: 'MESAJ', status: 'RET', source: 'IYS_KISAMESAJ' });
      created.set(r, now());
    }
    for (;;) {
      const page = await client.pullChanges(DEMO.brandCode, { source: 'IYS', limit: 5, ...(cursor ? { after: cursor } : {}) });
      if (!page) break;
      cursor = page.after;
      for (const m of page.list) received.push({ recipient: m.recipient, ageMs: now() - created.get(m.recipient)! });
    }
    await sim.advance(5 * 60_000);
  }
  t.equal(received.length, 12);
  t.equal(new Set(received.map((r) => r.recipient)).size, 12, 'no repeats');
  t.ok(received.every((r) => r.ageMs >= 60 * 60_000 && r.ageMs < 65 * 60_000), 'each appears once 60 minutes old');
  const naive = await client.pullChanges(DEMO.brandCode, { source: 'IYS' });
  t.equal(naive?.list.length, 12, 'without a cursor the whole 7-day window comes back (a 5-minute window would miss it)');
});

t.test('outage longer than the window: movements older than 7 days are gone from the feed', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: '2026-05-12T10:00:00+03:00', clockFrozen: true });
  t.teardown(() => sim.close());
  const { client, now } = await simulatorClient(sim);
  await sim.http('POST', '/_sim/citizen', { brandCode: DEMO.brandCode, recipient: '+905550000099', type: 'MESAJ', status: 'RET', source: 'IYS_MOBIL' });
  const lastPull = new Date(now());
  await sim.advance(8 * 86_400_000);
  t.equal(await client.pullChanges(DEMO.brandCode, { source: 'IYS' }), null, 'the RET fell out of the 7-day feed');
  t.equal(isCursorStale(lastPull, new Date(now())), true, 'the caller must resync fully');
  const e = await client.getDailyFile(DEMO.brandCode, '12.05.2026').catch((x) => x);
  t.same(e.iysCodes, ['H501'], 'report dates must be YYYY-MM-DD (checked locally)');
  t.equal(client.attempts, 1);
});
