import t from 'tap';
import { Redis } from 'ioredis';
import { DeadLetters } from '../../src/iys/dead-letters.ts';
import { fleetKeys } from '../../src/iys/fleet-keys.ts';
import { redisAvailable, startRedis } from '../helpers/redis-server.ts';

// Issue 17: a fleet's dead letters live in one Redis list, so the letters an instance recorded
// are not lost with its disk: another instance (or a new one) replays them, resolves them, and
// two instances recording the same item keep it once.
const NOW = Date.parse('2026-11-28T10:00:00+03:00');
const raw = (over: Record<string, unknown> = {}) => ({ brandCode: 700001, recipient: '+905321250001', recipientType: 'BIREYSEL', type: 'MESAJ', status: 'ONAY', source: 'IYS_WEB', consentDate: '2026-11-28 10:30:00', creationDate: '2026-11-28 10:30:00', ...over });
const entry = (over: Record<string, unknown> = {}) => ({ brandCode: 700001, via: 'pull' as const, feed: 'IYS' as const, reason: 'future_date' as const, field: 'consentDate', message: 'm', raw: raw(over) });

const avail = redisAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  t.test('shared dead letters: found, resolved and deduplicated across instances; a new instance replays them', async (t) => {
    const server = await startRedis(['--appendonly', 'yes']);
    t.teardown(() => server.cleanup());
    const clients: Redis[] = [];
    const open = async () => {
      const c = new Redis(server.url);
      clients.push(c);
      const d = new DeadLetters({ dir: '/nonexistent-not-used-on-redis', now: () => NOW, redis: { client: c, key: fleetKeys('dlr:').deadLetters } });
      await d.open();
      return d;
    };
    t.teardown(async () => { for (const c of clients) await c.quit(); });
    const a = await open();
    const b = await open();
    const [l1] = await a.add([entry()]);
    await a.add([entry({ recipient: '+905321250002' })]);
    t.equal(b.openLetters().length, 0, 'b has not caught up yet');
    await b.refresh();
    t.same(b.openLetters().map((l) => l.id).sort(), a.openLetters().map((l) => l.id).sort(), 'b sees a\'s two letters after refresh');
    // both record the same item at once: kept once
    await Promise.all([a.add([entry({ recipient: '+905321250003' })]), b.add([entry({ recipient: '+905321250003' })])]);
    await a.refresh();
    await b.refresh();
    t.equal(a.summary().open, 3, 'the item recorded by both is open once (a)');
    t.equal(b.summary().open, 3, 'and once (b)');
    await b.resolve([{ id: l1!.id, outcome: 'applied' }]);
    await a.refresh();
    t.equal(a.openLetters().some((l) => l.id === l1!.id), false, 'resolved on b: resolved on a');
    // a "dies" (its disk with it); a new instance replays everything from Redis
    const c = await open();
    t.same(c.summary(), b.summary(), 'a new instance knows every letter and its state');
    t.equal(c.summary().open, 2);
    await server.kill();
    await t.rejects(c.add([entry({ recipient: '+905321250009' })]), { code: 'GW_ERR_STORE_UNAVAILABLE' }, 'Redis down: the add fails (the cursor does not move)');
    await server.start();
  });
}
