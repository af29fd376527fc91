import type { Test } from 'tap';
import type { ConsentKey, ConsentRecord, Movement } from '../../src/domain/types.ts';
import type { ConsentStore } from '../../src/mirror/consent-store.ts';
import { recordAt } from '../../src/mirror/timeline.ts';

/**
 * The store contract (STYLE.md habit 6): one suite, run unchanged against every ConsentStore
 * implementation (memory-store.contract.test.ts, redis-store.test.ts). Each subtest gets a fresh
 * store from `factory` and uses its own brand codes, so a shared backing server is fine.
 */
export interface StoreUnderTest {
  store: ConsentStore;
  cleanup(): Promise<void>;
  /** Closes `store` and opens a new one on the same data (durability); optional. */
  reopen?: () => Promise<ConsentStore>;
}

let brandSeq = 700_000 + Math.floor(Math.random() * 100_000);
/** A brand code no other subtest uses. */
function freshBrand(): number {
  return brandSeq++;
}

/** A movement with defaults: BIREYSEL MESAJ ONAY HS_WEB, fixed dates. */
export function mv(p: Partial<Movement> & { brandCode: number; recipient: string }): Movement {
  return {
    recipientType: 'BIREYSEL',
    type: 'MESAJ',
    status: 'ONAY',
    source: 'HS_WEB',
    consentDate: '2026-03-02 09:14:00',
    creationDate: '2026-03-02 09:15:02',
    transactionId: '82f3e9c695dc6b8d1b11818d5701919e286de8d47f7c3eb3100c485f79e57828',
    ...p,
  };
}

/** Comparable form: optional fields dropped when unset/false/empty, as every store may omit them. */
export function norm(r: ConsentRecord | Movement | null | undefined): Record<string, unknown> | null {
  if (r === null || r === undefined) return null;
  const o: Record<string, unknown> = {
    brandCode: r.brandCode, recipientType: r.recipientType, type: r.type, recipient: r.recipient,
    status: r.status, source: r.source, consentDate: r.consentDate, creationDate: r.creationDate,
    transactionId: r.transactionId,
  };
  if (r.noncanonical) o.noncanonical = true;
  if (r.retailerCode !== null && r.retailerCode !== undefined) o.retailerCode = r.retailerCode;
  // an empty retailerAccess means the same as none (types.ts): stores may drop it
  if (r.retailerAccess !== null && r.retailerAccess !== undefined && r.retailerAccess.length > 0) o.retailerAccess = [...r.retailerAccess];
  return o;
}

function keyOf(m: Movement): ConsentKey {
  return { brandCode: m.brandCode, recipientType: m.recipientType, type: m.type, recipient: m.recipient };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/**
 * Registers the contract subtests on `t`.
 * @param name    label of the implementation (`redis`, `embedded`)
 * @param factory builds and opens a fresh, empty store
 */
export function runStoreContract(t: Test, name: string, factory: () => Promise<StoreUnderTest>): void {
  const withStore = (title: string, fn: (t: Test, s: StoreUnderTest, brand: number) => Promise<void>) => {
    t.test(`${name}: ${title}`, async (t) => {
      const s = await factory();
      t.teardown(() => s.cleanup());
      await fn(t, s, freshBrand());
    });
  };

  withStore('apply then get returns the record; unknown key is null', async (t, { store }, brand) => {
    const m = mv({ brandCode: brand, recipient: '+905321220001' });
    t.same(await store.apply([m]), ['applied']);
    t.same(norm(await store.get(keyOf(m))), norm(m));
    t.equal(await store.get({ ...keyOf(m), recipient: '+905321220002' }), null);
    t.equal(await store.size(), 1);
    t.equal(await store.ping(), true);
  });

  withStore('all four key parts are distinct keys', async (t, { store }, brand) => {
    const base = mv({ brandCode: brand, recipient: '+905321220003' });
    const variants: Movement[] = [
      base,
      { ...base, status: 'RET', type: 'ARAMA' },
      { ...base, status: 'RET', recipientType: 'TACIR' },
      { ...base, status: 'RET', brandCode: brand + 500_000 },
      { ...base, status: 'RET', recipient: '+905321220004' },
    ];
    t.same(await store.apply(variants), variants.map(() => 'applied'));
    const got = await store.getMany(variants.map(keyOf));
    t.same(got.map(norm), variants.map(norm));
    t.same(got.map((r) => r?.status), ['ONAY', 'RET', 'RET', 'RET', 'RET']);
  });

  withStore('getMany keeps order and length, null for misses, repeats allowed', async (t, { store }, brand) => {
    const ms = Array.from({ length: 50 }, (_, i) => mv({
      brandCode: brand, recipient: `+9053212${String(30000 + i)}`, status: i % 3 === 0 ? 'RET' : 'ONAY',
    }));
    await store.apply(ms);
    const keys: ConsentKey[] = [];
    const expect: (Record<string, unknown> | null)[] = [];
    for (let i = 0; i < 50; i++) {
      keys.push(keyOf(ms[i]!)); expect.push(norm(ms[i]!));
      keys.push({ ...keyOf(ms[i]!), recipient: `+9053299${String(30000 + i)}` }); expect.push(null);
    }
    keys.push(keyOf(ms[7]!)); expect.push(norm(ms[7]!));
    const got = await store.getMany(keys);
    t.equal(got.length, keys.length);
    t.same(got.map(norm), expect);
    t.same(await store.getMany([]), []);
    // second read (warm cache for stores that have one) answers the same
    t.same((await store.getMany(keys)).map(norm), expect);
  });

  withStore('policy reads (batch path) agree with whole records, through a cache and after a write', async (t, { store }, brand) => {
    const ms: Movement[] = Array.from({ length: 40 }, (_, i) => mv({
      brandCode: brand, recipient: `+9053213${String(40000 + i)}`, status: i % 4 === 0 ? 'RET' : 'ONAY',
      ...(i % 5 === 1 ? { retailerCode: 7000 + i, retailerAccess: [1, 22, 333_333] } : {}),
      ...(i % 7 === 2 ? { retailerAccess: [] } : {}),
      ...(i % 9 === 3 ? { noncanonical: true } : {}),
      ...(i % 6 === 4 ? { transactionId: `short-id-${i}` } : {}),
      ...(i % 6 === 5 ? { transactionId: null } : {}),
    }));
    await store.apply(ms);
    const keys = [...ms.map(keyOf), { ...keyOf(ms[0]!), recipient: '+905329999999' }, keyOf(ms[3]!)];
    const read = (ks: ConsentKey[]) => (store.getPolicyMany ? store.getPolicyMany(ks)
      : (store as unknown as { peekMany?: (k: ConsentKey[]) => unknown[] }).peekMany
        ? Promise.resolve((store as unknown as { peekMany: (k: ConsentKey[]) => unknown[] }).peekMany(ks)) : null);
    const view = (r: unknown) => {
      if (r === null || r === undefined) return null;
      const x = r as { status: string; noncanonical?: boolean; retailerCode?: number | null; retailerAccess?: number[] | null };
      return { status: x.status, noncanonical: x.noncanonical === true, retailerCode: x.retailerCode ?? null, retailerAccess: x.retailerAccess ?? null };
    };
    const whole = (await store.getMany(keys)).map(view);
    t.equal(whole.filter((w) => w?.retailerAccess?.length === 3).length, 7, 'dealer lists present in the fixture');
    const p1 = read(keys);
    if (p1 === null) { t.pass(`${name} has no policy read: batch checks use getMany`); return; }
    t.same((await p1).map(view), whole, 'first read (cold)');
    t.same((await read(keys)!).map(view), whole, 'second read (policy views cached where a cache exists)');
    // a single lookup after a policy read still gets the whole record (dates, transactionId)
    t.same(norm(await store.get(keyOf(ms[1]!))), norm(ms[1]!));
    // a write is seen by the next policy read
    const ret = mv({ ...ms[1]!, status: 'RET', consentDate: '2026-04-01 10:00:00', creationDate: '2026-04-01 10:00:01', transactionId: null, retailerCode: null, retailerAccess: null });
    t.same(await store.apply([ret]), ['applied']);
    t.same((await read([keyOf(ms[1]!)])!).map((r) => view(r)?.status), ['RET']);
  });

  withStore('newer consentDate wins; an older movement arriving late changes nothing', async (t, { store }, brand) => {
    const onay = mv({ brandCode: brand, recipient: '+905321220010', consentDate: '2026-03-02 09:00:00' });
    const ret = mv({ ...onay, status: 'RET', consentDate: '2026-03-03 10:00:00', creationDate: '2026-03-03 10:00:05',
      transactionId: 'db77fd01af957221a4989b64b3770a83a3c56068405b9f0e9408feae57fd17e4' });
    t.same(await store.apply([ret]), ['applied']);
    t.same(await store.apply([onay]), ['ignoredOlder']);
    t.same(norm(await store.get(keyOf(onay))), norm(ret));
    const newer = mv({ ...onay, consentDate: '2026-03-04 08:00:00', creationDate: '2026-03-04 08:00:01' });
    t.same(await store.apply([newer]), ['applied']);
    t.equal((await store.get(keyOf(onay)))?.status, 'ONAY');
  });

  withStore('same consentDate: newer creationDate wins, then RET wins the tie', async (t, { store }, brand) => {
    const a = mv({ brandCode: brand, recipient: '+905321220011', consentDate: '2026-03-02 09:59:58', creationDate: '2026-03-02 10:00:00' });
    const b = { ...a, status: 'RET' as const, creationDate: '2026-03-02 09:59:59' };
    t.same(await store.apply([a, b]), ['applied', 'ignoredOlder'], 'older creationDate loses even as RET');
    t.equal((await store.get(keyOf(a)))?.status, 'ONAY');
    // field case: ONAY and RET sharing one transactionId and identical dates → RET wins either order
    const onay = mv({ brandCode: brand, recipient: '+905321220012', consentDate: '2026-03-02 09:59:58', creationDate: '2026-03-02 10:00:00',
      transactionId: 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb' });
    const ret = { ...onay, status: 'RET' as const };
    t.same(await store.apply([onay, ret]), ['applied', 'applied'], 'shared transactionId is not a duplicate');
    const onay2 = { ...onay, recipient: '+905321220013' };
    const ret2 = { ...ret, recipient: '+905321220013' };
    t.same(await store.apply([ret2, onay2]), ['applied', 'ignoredOlder']);
    t.same((await store.getMany([keyOf(onay), keyOf(onay2)])).map((r) => r?.status), ['RET', 'RET']);
  });

  withStore('a null consentDate sorts before any date (TACIR, C08)', async (t, { store }, brand) => {
    const undated = mv({ brandCode: brand, recipient: '+905321220020', recipientType: 'TACIR', source: null,
      consentDate: null, creationDate: '2026-03-05 10:00:00', status: 'RET' });
    const dated = { ...undated, status: 'ONAY' as const, source: 'HS_WEB' as const, consentDate: '2015-05-01 00:00:00', creationDate: '2020-01-01 00:00:00' };
    t.same(await store.apply([dated, undated]), ['applied', 'ignoredOlder']);
    t.same(norm(await store.get(keyOf(dated))), norm(dated));
    const k2 = { ...undated, recipient: '+905321220021' };
    t.same(await store.apply([k2]), ['applied']);
    t.same(norm(await store.get(keyOf(k2))), norm(k2), 'null source and consentDate round-trip');
    const local = { ...k2, creationDate: null, transactionId: null, consentDate: null };
    t.same(await store.apply([local]), ['ignoredOlder'], 'null creationDate sorts first too');
  });

  withStore('idempotent: the same movement twice changes nothing', async (t, { store }, brand) => {
    const a = mv({ brandCode: brand, recipient: '+905321220030', consentDate: '2026-03-01 09:00:00' });
    const b = mv({ brandCode: brand, recipient: '+905321220030', status: 'RET', consentDate: '2026-03-02 09:00:00' });
    const c = mv({ brandCode: brand, recipient: '+905321220030', consentDate: '2026-02-01 09:00:00' });
    t.same(await store.apply([a, b, c]), ['applied', 'applied', 'ignoredOlder']);
    const h1 = (await store.history(keyOf(a))).map(norm);
    t.same(await store.apply([a, b, c, b]), ['duplicate', 'duplicate', 'duplicate', 'duplicate']);
    t.same((await store.history(keyOf(a))).map(norm), h1);
    t.equal(await store.size(), 1);
    t.same(norm(await store.get(keyOf(a))), norm(b));
    // retailer fields are not part of a movement's identity (consent-order.ts sameMovement)
    t.same(await store.apply([{ ...b, retailerCode: 9 }]), ['duplicate']);
  });

  withStore('history is newest first, current record first', async (t, { store }, brand) => {
    const days = ['2026-03-03', '2026-03-01', '2026-03-05', '2026-03-02', '2026-03-04'];
    const ms = days.map((d, i) => mv({ brandCode: brand, recipient: 'ali.veli+iys@example.com', type: 'EPOSTA',
      status: i % 2 === 0 ? 'ONAY' : 'RET', consentDate: `${d} 12:00:00`, creationDate: `${d} 12:00:01`,
      transactionId: `tx-${i}` }));
    t.same(await store.apply(ms), ['applied', 'ignoredOlder', 'applied', 'ignoredOlder', 'ignoredOlder']);
    const h = await store.history(keyOf(ms[0]!));
    t.same(h.map((m) => m.consentDate), [...days].sort().reverse().map((d) => `${d} 12:00:00`));
    t.same(norm(h[0]), norm(await store.get(keyOf(ms[0]!))));
    t.same(norm(h.find((m) => m.transactionId === 'tx-3')), norm(ms[3]!));
    t.same(await store.history({ ...keyOf(ms[0]!), recipient: 'nobody@example.com' }), []);
  });

  withStore('optional fields and recipient forms round-trip', async (t, { store }, brand) => {
    const ms: Movement[] = [
      mv({ brandCode: brand, recipient: '+905321220040', noncanonical: true, status: 'RET' }),
      mv({ brandCode: brand, recipient: '+905321220041', retailerCode: 12345, retailerAccess: [1, 777, 1_000_000] }),
      mv({ brandCode: brand, recipient: '+905321220042', retailerAccess: [] }),
      mv({ brandCode: brand, recipient: '+441632960961', source: 'IYS_KISAMESAJ', transactionId: 'non-hex id with spaces|and bars' }),
      mv({ brandCode: brand, recipient: 'AYSE@xn--rnek-4qa.com.tr', type: 'EPOSTA', transactionId: null }),
      mv({ brandCode: brand, recipient: '+905321220043', type: 'ARAMA', recipientType: 'TACIR', source: 'HS_KARAR', status: 'RET' }),
    ];
    t.same(await store.apply(ms), ms.map(() => 'applied'));
    t.same((await store.getMany(ms.map(keyOf))).map(norm), ms.map(norm));
  });

  withStore('movements for one key in one batch apply in array order', async (t, { store }, brand) => {
    const base = mv({ brandCode: brand, recipient: '+905321220050' });
    const seq: Movement[] = [
      { ...base, consentDate: '2026-03-01 00:00:01' },
      { ...base, status: 'RET', consentDate: '2026-03-01 00:00:03' },
      { ...base, consentDate: '2026-03-01 00:00:02' },
      { ...base, consentDate: '2026-03-01 00:00:04' },
    ];
    const others = Array.from({ length: 20 }, (_, i) => mv({ brandCode: brand, recipient: `+90532300${String(1000 + i)}` }));
    t.same(await store.apply([seq[0]!, ...others.slice(0, 10), seq[1]!, seq[2]!, ...others.slice(10), seq[3]!]),
      ['applied', ...others.slice(0, 10).map(() => 'applied'), 'applied', 'ignoredOlder', ...others.slice(10).map(() => 'applied'), 'applied']);
    t.same(norm(await store.get(keyOf(base))), norm(seq[3]!));
    t.equal(await store.size(), 21);
  });

  withStore('iterate yields every current record, optionally of one brand', async (t, { store }, brand) => {
    const other = brand + 300_000;
    const mine = Array.from({ length: 30 }, (_, i) => mv({ brandCode: brand, recipient: `+90532400${String(1000 + i)}` }));
    const theirs = Array.from({ length: 5 }, (_, i) => mv({ brandCode: other, recipient: `+90532400${String(1000 + i)}`, status: 'RET' }));
    await store.apply([...mine, ...theirs, { ...mine[0]!, status: 'RET', consentDate: '2026-04-01 00:00:00' }]);
    const sortKey = (r: Record<string, unknown> | null) => JSON.stringify(r);
    const got = (await collect(store.iterate(brand))).map(norm).map(sortKey).sort();
    const want = [{ ...mine[0]!, status: 'RET' as const, consentDate: '2026-04-01 00:00:00' }, ...mine.slice(1)].map(norm).map(sortKey).sort();
    t.same(got, want);
    const all = await collect(store.iterate());
    t.equal(all.length, 35);
    t.equal(all.filter((r) => r.brandCode === other && r.status === 'RET').length, 5);
    t.equal(await store.size(), 35);
  });

  withStore('meta values are null until set, then durable strings', async (t, { store }) => {
    t.equal(await store.getMeta('sync.cursor'), null);
    await store.setMeta('sync.cursor', 'abc|123');
    await store.setMeta('lastFresh', '2026-11-29T14:00:00+03:00');
    t.equal(await store.getMeta('sync.cursor'), 'abc|123');
    await store.setMeta('sync.cursor', 'next');
    t.equal(await store.getMeta('sync.cursor'), 'next');
    t.equal(await store.getMeta('lastFresh'), '2026-11-29T14:00:00+03:00');
  });

  // issue 15: GET /v1/consents?at= — the record as the mirror held it, from the movement history
  const T = Date.parse('2026-11-02T09:00:00Z');
  const MIN = 60_000;
  withStore('movement history: the record held at a time, against hand-computed states', async (t, { store }, brand) => {
    const phone = '+905321220070';
    const onay1 = mv({ brandCode: brand, recipient: phone, consentDate: '2026-03-01 09:00:00', creationDate: '2026-03-01 09:00:02', transactionId: 'tx-onay-1' });
    const ret = mv({ ...onay1, status: 'RET', source: 'HS_MESAJ', consentDate: '2026-03-05 10:00:00', creationDate: '2026-03-05 10:00:03', transactionId: 'tx-ret' });
    const late = mv({ ...onay1, consentDate: '2026-02-01 08:00:00', creationDate: '2026-02-01 08:00:01', transactionId: 'tx-late' });
    const onay2 = mv({ ...onay1, source: 'HS_WEB', consentDate: '2026-04-01 12:00:00', creationDate: '2026-04-01 12:00:01', transactionId: 'tx-onay-2' });
    const tacir = mv({ ...onay1, recipientType: 'TACIR', status: 'RET', transactionId: 'tx-tacir' });
    const arama = mv({ ...onay1, type: 'ARAMA', transactionId: 'tx-arama' });
    const otherBrand = mv({ ...onay1, brandCode: brand + 400_000, status: 'RET', transactionId: 'tx-other' });
    // applied times: ONAY at T, TACIR RET at T+5, RET at T+10 (with the other brand's and ARAMA),
    // an older ONAY arriving late at T+15, ONAY again at T+20; the duplicate at T+25 adds nothing
    t.same(await store.apply([onay1], { appliedAtMs: T }), ['applied']);
    t.same(await store.apply([tacir], { appliedAtMs: T + 5 * MIN }), ['applied']);
    t.same(await store.apply([ret, otherBrand, arama], { appliedAtMs: T + 10 * MIN }), ['applied', 'applied', 'applied']);
    t.same(await store.apply([late], { appliedAtMs: T + 15 * MIN }), ['ignoredOlder']);
    t.same(await store.apply([onay2], { appliedAtMs: T + 20 * MIN }), ['applied']);
    t.same(await store.apply([ret], { appliedAtMs: T + 25 * MIN }), ['duplicate']);

    const tl = await store.timeline(keyOf(onay1));
    t.same(tl.map((e) => [e.appliedAt, e.outcome, e.movement.transactionId]), [
      [T, 'applied', 'tx-onay-1'], [T + 10 * MIN, 'applied', 'tx-ret'], [T + 15 * MIN, 'ignoredOlder', 'tx-late'], [T + 20 * MIN, 'applied', 'tx-onay-2'],
    ], 'every movement but the duplicate, in apply order, with its applied time');
    t.same(norm(tl[1]!.movement), norm(ret), 'entries hold the whole movement');
    const at = (ms: number) => recordAt(tl, ms)?.movement ?? null;
    t.equal(at(T - 1), null, 'before the first movement: no record at that time');
    t.same(norm(at(T)), norm(onay1), 'at the first applied time');
    t.same(norm(at(T + 10 * MIN - 1)), norm(onay1), 'a millisecond before the RET');
    t.same(norm(at(T + 10 * MIN)), norm(ret));
    t.same(norm(at(T + 17 * MIN)), norm(ret), 'an older movement applied late changed nothing');
    t.same(norm(at(T + 20 * MIN)), norm(onay2));
    t.same(norm(at(T + 9_999 * MIN)), norm(await store.get(keyOf(onay1))), 'now: the current record');

    const tlTacir = await store.timeline(keyOf(tacir));
    t.equal(recordAt(tlTacir, T + 4 * MIN), null, 'TACIR key: nothing before its own movement');
    t.same(norm(recordAt(tlTacir, T + 6 * MIN)?.movement), norm(tacir));
    t.same(tlTacir.map((e) => e.appliedAt), [T + 5 * MIN], 'the TACIR key has its own history');
    const tlArama = await store.timeline(keyOf(arama));
    t.same(tlArama.map((e) => [e.appliedAt, e.movement.type]), [[T + 10 * MIN, 'ARAMA']], 'another type is another key');
    const tlOther = await store.timeline(keyOf(otherBrand));
    t.equal(recordAt(tlOther, T + 5 * MIN), null, 'the other brand held nothing at T+5');
    t.equal(recordAt(tlOther, T + 10 * MIN)?.movement.status, 'RET');
    t.same(await store.timeline({ ...keyOf(onay1), recipient: '+905329999998' }), [], 'unknown key: empty history');
    const mail = mv({ brandCode: brand, recipient: 'ayse.yilmaz@example.com.tr', type: 'EPOSTA', transactionId: 'tx-mail' });
    const mail2 = mv({ ...mail, recipient: 'ayse.yilmaz@example.com.trx', status: 'RET', transactionId: 'tx-mail-2' });
    t.same(await store.apply([mail, mail2], { appliedAtMs: T + 30 * MIN }), ['applied', 'applied']);
    t.same((await store.timeline(keyOf(mail))).map((e) => e.movement.transactionId), ['tx-mail'],
      'an e-mail key that is a prefix of another keeps only its own entries');
  });

  withStore('movement history retention: older entries go, the record in force at the cutoff stays', async (t, { store }, brand) => {
    const DAY = 86_400_000;
    const a = mv({ brandCode: brand, recipient: '+905321220071', consentDate: '2023-01-01 09:00:00', transactionId: 'r-a' });
    const b = mv({ ...a, status: 'RET', consentDate: '2023-01-02 09:00:00', transactionId: 'r-b' });
    const old = mv({ ...a, consentDate: '2022-06-01 09:00:00', transactionId: 'r-old' });
    const c = mv({ ...a, consentDate: '2023-01-03 09:00:00', transactionId: 'r-c' });
    const d = mv({ ...a, status: 'RET', consentDate: '2026-01-05 09:00:00', transactionId: 'r-d' });
    const T0 = T - 1100 * DAY;
    await store.apply([a], { appliedAtMs: T0 });
    await store.apply([b], { appliedAtMs: T0 + DAY });
    await store.apply([old], { appliedAtMs: T0 + DAY + 1 });
    await store.apply([c], { appliedAtMs: T0 + 2 * DAY });
    t.equal((await store.timeline(keyOf(a))).length, 4);
    // written 1,095 days (the default retention) + 1.5 days after T0: the cutoff is T0 + 1.5 days
    await store.apply([d], { appliedAtMs: T0 + 1096.5 * DAY });
    const tl = await store.timeline(keyOf(a));
    t.same(tl.map((e) => e.movement.transactionId), ['r-b', 'r-c', 'r-d'],
      'before the cutoff only the record then in force (RET of day 1) is kept');
    t.equal(recordAt(tl, T0 + 1.5 * DAY)?.movement.status, 'RET', 'the answer at the cutoff is unchanged');
    t.equal(recordAt(tl, T0 + 2 * DAY)?.movement.transactionId, 'r-c');
  });

  withStore('close is idempotent; reopen keeps records, history and meta', async (t, s, brand) => {
    const a = mv({ brandCode: brand, recipient: '+905321220060', consentDate: '2026-03-01 09:00:00' });
    const b = mv({ ...a, status: 'RET', consentDate: '2026-03-02 09:00:00' });
    await s.store.apply([a], { appliedAtMs: T });
    await s.store.apply([b], { appliedAtMs: T + MIN });
    await s.store.setMeta('cursor', 'c1');
    if (!s.reopen) {
      await s.store.close();
      await s.store.close();
      t.pass('closed twice');
      return;
    }
    const store = await s.reopen();
    t.same(norm(await store.get(keyOf(a))), norm(b));
    t.same((await store.history(keyOf(a))).map(norm), [norm(b), norm(a)]);
    t.same((await store.timeline(keyOf(a))).map((e) => [e.appliedAt, e.outcome, norm(e.movement)]),
      [[T, 'applied', norm(a)], [T + MIN, 'applied', norm(b)]], 'the movement history survives a reopen');
    t.equal(await store.getMeta('cursor'), 'c1');
    t.same(await store.apply([b]), ['duplicate']);
    await store.close();
    await store.close();
  });
}
