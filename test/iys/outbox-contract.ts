import type { Test } from 'tap';
import type { Movement } from '../../src/domain/types.ts';
import type { ConsentStore } from '../../src/mirror/consent-store.ts';
import type { OutboxEntry, OutboxStore } from '../../src/iys/outbox-store.ts';

/**
 * The outbox contract: one suite, run unchanged against both OutboxStore twins
 * (outbox-file.contract.test.ts: the file outbox on an embedded store; outbox-redis.contract.test.ts:
 * the fleet's Redis outbox on a private redis-server). `factory` gives a fresh outbox, the store
 * its mirror writes go to, and (optionally) a reopen on the same data for durability, and for a
 * fenced twin a second handle on the same data whose lease is lost.
 */
export interface OutboxUnderTest {
  outbox: OutboxStore;
  store: ConsentStore;
  reopen(): Promise<OutboxStore>;
  /** The same data through an instance that does not hold the lease (fenced twins only). */
  stale?: OutboxStore;
  cleanup(): Promise<void>;
}

let seq = 0;
const entry = (over: Partial<OutboxEntry> = {}): OutboxEntry => {
  seq++;
  return {
    brandCode: 700001, origin: 'rejection', receivedAt: '2026-11-30T07:00:00.000Z', deadline: '2026-12-03',
    consent: { recipient: `+90532700${String(1000 + seq)}`, type: 'MESAJ', recipientType: 'BIREYSEL', status: 'RET', source: 'HS_WEB', consentDate: '2026-11-30 10:00:00' },
    ...over,
  };
};

export function runOutboxContract(t: Test, name: string, factory: () => Promise<OutboxUnderTest>): void {
  const withOutbox = (title: string, fn: (t: Test, u: OutboxUnderTest) => Promise<void>) => t.test(`${name}: ${title}`, async (t) => {
    const u = await factory();
    t.teardown(() => u.cleanup());
    await fn(t, u);
  });

  withOutbox('add → pending, get and list give the items back, due by nextAttemptAt', async (t, u) => {
    const [a, b] = await u.outbox.add([entry(), entry({ origin: 'consent' })], 1_000);
    t.equal(a!.state, 'pending');
    t.equal(a!.attempts, 0);
    t.equal(a!.nextAttemptAt, 1_000);
    t.not(a!.id, b!.id, 'distinct ids');
    t.same((await u.outbox.get(a!.id))?.consent, a!.consent);
    t.equal(await u.outbox.get('no-such-id'), undefined);
    t.same((await u.outbox.list()).map((i) => i.id), [a!.id, b!.id], 'creation order');
    t.same((await u.outbox.list((i) => i.origin === 'consent')).map((i) => i.id), [b!.id], 'filtered');
    t.same((await u.outbox.due(999)).length, 0, 'nothing due before nextAttemptAt');
    t.same((await u.outbox.due(1_000)).map((i) => i.id), [a!.id, b!.id]);
  });

  withOutbox('update: patches merge, updatedAt moves, closed items leave due, unknown ids are ignored', async (t, u) => {
    const [a, b] = await u.outbox.add([entry(), entry()], 1_000);
    await u.outbox.update([{ id: a!.id, patch: { attempts: 1, nextAttemptAt: 5_000, claimedAt: 1_000 } }, { id: 'nope', patch: { attempts: 9 } }], 2_000);
    const a1 = (await u.outbox.get(a!.id))!;
    t.match(a1, { attempts: 1, nextAttemptAt: 5_000, claimedAt: 1_000, updatedAt: 2_000, state: 'pending' });
    t.same((await u.outbox.due(3_000)).map((i) => i.id), [b!.id], 'pushed back: not due');
    t.same((await u.outbox.due(5_000)).map((i) => i.id), [a!.id, b!.id]);
    await u.outbox.update([{ id: b!.id, patch: { state: 'done', outcome: 'registered', transactionId: 'f'.repeat(64), claimedAt: 0 } }], 3_000);
    t.same((await u.outbox.due(Number.MAX_SAFE_INTEGER)).map((i) => i.id), [a!.id], 'a done item is never due');
    t.match(await u.outbox.get(b!.id), { state: 'done', outcome: 'registered', transactionId: 'f'.repeat(64) });
    t.equal((await u.outbox.list()).length, 2, 'done items stay listed');
    t.equal(await u.outbox.get('nope'), undefined, 'an update never creates an item');
  });

  withOutbox('addAndApply: the item is queued and the refusal applied; both survive a reopen', async (t, u) => {
    const e = entry();
    const m: Movement = {
      brandCode: e.brandCode, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: e.consent.recipient, status: 'RET', source: 'HS_WEB',
      consentDate: e.consent.consentDate, creationDate: null, transactionId: null, noncanonical: false,
    };
    const { items, outcomes } = await u.outbox.addAndApply([e], [m], u.store, 1_000);
    t.same(outcomes, ['applied']);
    t.equal(items.length, 1);
    t.equal((await u.store.get(m))?.status, 'RET', 'in the mirror');
    const again = await u.outbox.addAndApply([], [m], u.store);
    t.same(again.outcomes, ['duplicate'], 'no item: the mirror write alone');
    t.same(again.items, []);
    const re = await u.reopen();
    t.same((await re.list()).map((i) => i.consent.recipient), [e.consent.recipient], 'the item survives the reopen');
    t.equal((await re.get(items[0]!.id))?.state, 'pending');
  });

  withOutbox('a stale instance (lease lost) cannot update: fenced, nothing changed', async (t, u) => {
    if (!u.stale) { t.pass('not a fenced twin (one gateway per data directory: dir-lock.ts)'); return; }
    const [a] = await u.outbox.add([entry()], 1_000);
    await t.rejects(u.stale.update([{ id: a!.id, patch: { state: 'done', outcome: 'registered' } }]), { code: 'FENCED' });
    t.equal((await u.outbox.get(a!.id))?.state, 'pending', 'unchanged');
    const [b] = await u.stale.add([entry()], 1_000);
    t.ok(await u.outbox.get(b!.id), 'adds are not fenced: any instance accepts refusals');
  });
}
