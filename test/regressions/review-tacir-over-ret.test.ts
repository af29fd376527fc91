// Found by the review of issue 10 (item 4, no field case id): a sender declaring a recipient TACIR
// (Netgsm `iysfilter: "12"`) reached an address whose BIREYSEL record is RET and that has no TACIR
// record, as TACIR_NOT_REJECTED. Policy `tacirOverBireyselRet` (default block): such a recipient is
// BLOCK BIREYSEL_RET_TACIR_UNPROVEN at every entrance (/v1/check, batch, scrub, send, proxy), on
// both stores, the BIREYSEL record read in the same batched lookup.
import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import { CheckService } from '../../src/check/check-service.ts';
import { loadConfig } from '../../src/config/load.ts';
import { decide, needsBireyselRecord } from '../../src/domain/policy.ts';
import type { ConsentKey } from '../../src/domain/types.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { createRedisStore } from '../../src/mirror/redis-store.ts';
import type { ConsentStore } from '../../src/mirror/consent-store.ts';
import { redisAvailable, startRedis } from '../helpers/redis-server.ts';
import { BRAND, KEY, makeProxy, startStub, type SeedRow } from '../transports/harness.ts';

const RET_IND = '+905550000004'; // BIREYSEL RET, no TACIR record: the trigger
const ONAY_IND = '+905550000005'; // BIREYSEL ONAY, no TACIR record
const BOTH = '+905550000006'; // TACIR ONAY + BIREYSEL RET (C08: the TACIR record decides)
const TACIR_RET = '+905550000007'; // TACIR RET
const OTHER_TYPE = '+905550000008'; // BIREYSEL RET for EPOSTA only: not the same key
const OTHER_BRAND = '+905550000009'; // BIREYSEL RET of another brand
const NONE = '+905550000010'; // no record at all
const SEED: SeedRow[] = [
  { recipient: RET_IND, status: 'RET' },
  { recipient: ONAY_IND, status: 'ONAY' },
  { recipient: BOTH, status: 'ONAY', recipientType: 'TACIR' },
  { recipient: BOTH, status: 'RET' },
  { recipient: TACIR_RET, status: 'RET', recipientType: 'TACIR' },
  { recipient: OTHER_TYPE, status: 'RET', type: 'EPOSTA' },
  { recipient: OTHER_BRAND, status: 'RET', brandCode: BRAND + 1 },
];
/** recipient → [decision, reason] for TICARI MESAJ to TACIR under the default policy. */
const EXPECTED: Array<[string, string, string]> = [
  [RET_IND, 'BLOCK', 'BIREYSEL_RET_TACIR_UNPROVEN'],
  [ONAY_IND, 'ALLOW', 'TACIR_NOT_REJECTED'],
  [BOTH, 'ALLOW', 'CONSENT_ONAY'],
  [TACIR_RET, 'BLOCK', 'CONSENT_RET'],
  [OTHER_TYPE, 'ALLOW', 'TACIR_NOT_REJECTED'],
  [OTHER_BRAND, 'ALLOW', 'TACIR_NOT_REJECTED'],
  [NONE, 'ALLOW', 'TACIR_NOT_REJECTED'],
];
const local = (e164: string) => `0${e164.slice(3)}`;
const H = { 'content-type': 'application/json', 'x-iys-gate-key': KEY, authorization: 'Basic dTpw' };

t.test('policy: decide() and needsBireyselRecord', async (t) => {
  const base = { type: 'MESAJ', recipientType: 'TACIR', messageType: 'TICARI', smsCapable: true, registrable: true, record: null, stale: false } as const;
  const ret = { status: 'RET', noncanonical: false, retailerCode: null, retailerAccess: null } as const;
  const onay = { ...ret, status: 'ONAY' } as const;
  t.same(decide({ ...base, bireyselRecord: ret }), { decision: 'BLOCK', reason: 'BIREYSEL_RET_TACIR_UNPROVEN' }, 'default policy blocks');
  t.same(decide({ ...base, bireyselRecord: { ...ret, noncanonical: true } }).reason, 'BIREYSEL_RET_TACIR_UNPROVEN', 'a RET in non-canonical form still refuses');
  t.same(decide({ ...base, bireyselRecord: onay }).reason, 'TACIR_NOT_REJECTED');
  t.same(decide({ ...base, bireyselRecord: null }).reason, 'TACIR_NOT_REJECTED');
  t.same(decide({ ...base, bireyselRecord: 'unavailable' }), { decision: 'BLOCK', reason: 'STORE_UNAVAILABLE' }, 'unknown BIREYSEL record: fail closed');
  t.same(decide({ ...base }).reason, 'STORE_UNAVAILABLE', 'not looked up: fail closed, never a silent allow');
  t.same(decide({ ...base, bireyselRecord: ret }, { tacirWithoutRecord: 'allow', tacirOverBireyselRet: 'allow' }).reason, 'TACIR_NOT_REJECTED', 'allow trusts the flag');
  t.same(decide({ ...base, bireyselRecord: ret }, { tacirWithoutRecord: 'block' }).reason, 'NO_CONSENT', 'tacirWithoutRecord=block comes first');
  t.same(decide({ ...base, record: onay, bireyselRecord: ret }).reason, 'CONSENT_ONAY', 'a TACIR record decides (C08)');
  t.equal(needsBireyselRecord('TACIR', 'TICARI'), true);
  t.equal(needsBireyselRecord('BIREYSEL', 'TICARI'), false);
  t.equal(needsBireyselRecord('TACIR', 'BILGILENDIRME'), false);
  t.equal(needsBireyselRecord('TACIR', 'TICARI', { tacirWithoutRecord: 'allow', tacirOverBireyselRet: 'allow' }), false);
  t.equal(needsBireyselRecord('TACIR', 'TICARI', { tacirWithoutRecord: 'block' }), false);
});

t.test('every entrance: /v1/check, batch, scrub, send, proxy (embedded store)', async (t) => {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [
    { name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND },
    { name: 'hook', adapter: 'webhook', url: stub.url, brandCode: BRAND },
  ]);
  await gw.seed(SEED);
  // /v1/check (CheckService.checkNow: the route is not in the harness, the service is the same)
  for (const [rcp, decision, reason] of EXPECTED) {
    const a = await gw.checks.check({ brandCode: BRAND, recipient: local(rcp), type: 'MESAJ', recipientType: 'TACIR', messageType: 'TICARI' });
    t.same([a.decision, a.reason], [decision, reason], `check ${rcp}`);
  }
  const asInd = await gw.checks.check({ brandCode: BRAND, recipient: local(ONAY_IND), type: 'MESAJ', recipientType: 'BIREYSEL', messageType: 'TICARI' });
  t.same([asInd.decision, asInd.reason], ['ALLOW', 'CONSENT_ONAY'], 'BIREYSEL checks unchanged');
  // batch
  const batch = await gw.checks.checkBatch({ brandCode: BRAND, type: 'MESAJ', recipientType: 'TACIR', messageType: 'TICARI' }, EXPECTED.map((e) => local(e[0])));
  t.same(batch.results.map((r) => [r.recipient, r.decision, r.reason]), EXPECTED, 'batch');
  t.same(batch.counts, { ALLOW: 5, BLOCK: 2 });
  // scrub
  const scrub = await gw.app.inject({
    method: 'POST', url: `/v1/scrub?brandCode=${BRAND}&type=MESAJ&recipientType=TACIR&annotate=true`,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'text/plain' }, payload: EXPECTED.map((e) => local(e[0])).join('\n') + '\n',
  });
  t.equal(scrub.statusCode, 200);
  t.same(scrub.body.trim().split('\n').map((l) => l.split(',').slice(1)), EXPECTED.map((e) => [e[1], e[2]]), 'scrub annotates every line');
  // proxy: Netgsm iysfilter 12 (commercial to merchants)
  const before = stub.requests.length;
  const res = await gw.app.inject({
    method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: H,
    payload: JSON.stringify({ msgheader: 'X', iysfilter: '12', messages: EXPECTED.map((e) => ({ msg: 'Toptan fiyat listemiz', no: e[0].slice(3) })) }),
  });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['x-iys-gate-counts'], 'received=7, forwarded=5, removed=2');
  const sent = JSON.parse(stub.requests[before]!.body.toString()) as { messages: Array<{ no: string }> };
  t.same(sent.messages.map((m) => `+90${m.no}`), EXPECTED.filter((e) => e[1] === 'ALLOW').map((e) => e[0]), 'the provider receives only the allowed merchants');
  t.notOk(stub.requests[before]!.body.toString().includes(RET_IND.slice(3)), 'the refused individual never reaches the provider');
  // /v1/send (webhook shape)
  const n = stub.requests.length;
  const send = await gw.app.inject({
    method: 'POST', url: '/v1/send?upstream=hook', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ brandCode: BRAND, type: 'MESAJ', messageType: 'TICARI', recipientType: 'TACIR', recipients: [local(RET_IND), local(ONAY_IND)], message: 'Toptan fiyat listemiz' }),
  });
  t.ok(send.statusCode < 300, `send ${send.statusCode} ${send.body}`);
  t.equal(stub.requests.length, n + 1);
  t.same(JSON.parse(stub.requests[n]!.body.toString()).recipients, [local(ONAY_IND)], '/v1/send forwards only the merchant without a refusal');
});

t.test('policy allow: the TACIR flag is trusted', async (t) => {
  const gw = await makeProxy(t, [], { config: { policy: { tacirOverBireyselRet: 'allow' } } });
  await gw.seed(SEED);
  const a = await gw.checks.check({ brandCode: BRAND, recipient: local(RET_IND), type: 'MESAJ', recipientType: 'TACIR', messageType: 'TICARI' });
  t.same([a.decision, a.reason], ['ALLOW', 'TACIR_NOT_REJECTED']);
});

/** Counts the store's read calls and the keys each carried. */
function spy(store: ConsentStore): Array<{ method: string; keys: ConsentKey[] }> {
  const calls: Array<{ method: string; keys: ConsentKey[] }> = [];
  const s = store as unknown as Record<string, (keys: ConsentKey[]) => unknown>;
  for (const m of ['getMany', 'getPolicyMany', 'peekMany'] as const) {
    const orig = s[m];
    if (!orig) continue;
    s[m] = function (this: unknown, keys: ConsentKey[]) { calls.push({ method: m, keys: [...keys] }); return orig.call(this, keys); };
  }
  return calls;
}

async function seedStore(store: ConsentStore): Promise<void> {
  await store.apply(SEED.map((r) => ({
    brandCode: r.brandCode ?? BRAND, recipientType: r.recipientType ?? 'BIREYSEL', type: r.type ?? 'MESAJ', recipient: r.recipient,
    status: r.status, source: 'HS_WEB' as const, consentDate: '2026-01-05 10:00:00', creationDate: '2026-01-05 10:00:05', transactionId: null, retailerAccess: null,
  })));
}

/** Calls per command Redis has served from clients so far (INFO commandstats; a Lua script's own calls excluded). */
async function commandCalls(admin: Redis): Promise<Map<string, number>> {
  const info = await admin.info('commandstats');
  const m = new Map<string, number>();
  for (const [, name, calls] of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) m.set(name!, Number(calls));
  return m;
}
/** Client round trips between two commandstats snapshots: script calls + other commands, INFO and Lua inner calls aside. */
function roundTrips(a: Map<string, number>, b: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [name, n] of b) {
    const d = n - (a.get(name) ?? 0);
    if (d > 0 && name !== 'info' && !['hget', 'hmget', 'hgetall'].includes(name)) out.push(`${name}×${d}`);
  }
  return out;
}

async function oneLookup(t: Test, store: ConsentStore, admin?: Redis): Promise<void> {
  await seedStore(store);
  const checks = new CheckService({ store, policy: { tacirWithoutRecord: 'allow' }, mirrorMaxAgeMs: 0 });
  const calls = spy(store);
  const c0 = admin ? await commandCalls(admin) : null;
  const batch = await checks.checkBatch({ brandCode: BRAND, type: 'MESAJ', recipientType: 'TACIR', messageType: 'TICARI' }, EXPECTED.map((e) => local(e[0])));
  if (admin && c0) {
    const trips = roundTrips(c0, await commandCalls(admin));
    t.ok(trips.length === 1 && /^eval(sha)?×1$/.test(trips[0]!), `Redis: one script call for the whole batch, extra keys included (${trips.join(', ')})`);
  }
  t.same(batch.results.map((r) => [r.recipient, r.decision, r.reason]), EXPECTED);
  t.equal(calls.length, 1, `one batched read (${calls.map((c) => c.method).join(',')})`);
  t.same(calls[0]!.keys.map((k) => `${k.recipientType}:${k.recipient}`), [
    ...EXPECTED.map((e) => `TACIR:${e[0]}`), ...EXPECTED.map((e) => `BIREYSEL:${e[0]}`),
  ], 'the read carries the TACIR keys and the extra BIREYSEL keys');
  calls.length = 0;
  const one = await checks.check({ brandCode: BRAND, recipient: local(RET_IND), type: 'MESAJ', recipientType: 'TACIR', messageType: 'TICARI' });
  t.same([one.decision, one.reason], ['BLOCK', 'BIREYSEL_RET_TACIR_UNPROVEN']);
  t.ok(calls.length <= 1, `single check: at most one read (${calls.length})`);
  calls.length = 0;
  const ind = await checks.checkBatch({ brandCode: BRAND, type: 'MESAJ', recipientType: 'BIREYSEL', messageType: 'TICARI' }, [local(RET_IND)]);
  t.equal(ind.results[0]!.reason, 'CONSENT_RET');
  t.ok(calls.every((c) => c.keys.length === 1), 'BIREYSEL batches read no extra key');
}

t.test('embedded store: one batched read with the extra keys', async (t) => {
  const store = new MemoryStore({ dataDir: null });
  await store.open();
  t.teardown(() => store.close());
  await oneLookup(t, store);
});

const avail = redisAvailable();
t.test('Redis store: one round trip with the extra keys', { skip: avail === true ? false : avail }, async (t) => {
  const server = await startRedis();
  t.teardown(() => server.cleanup());
  const admin = new Redis(server.url);
  t.teardown(() => { admin.disconnect(); });
  for (const cache of [false, { maxEntries: 1000, maxBytes: 1 << 20, ttlMs: 60_000 }] as const) {
    const store = createRedisStore({ url: server.url, keyPrefix: `tacir${process.pid}:${cache ? 'c' : 'n'}:`, bucketCount: 16, cache, commandTimeoutMs: 500, checkSettings: false });
    await store.open();
    t.teardown(() => store.close());
    await t.test(cache ? 'with cache' : 'without cache', (t) => oneLookup(t, store, admin));
  }
  // Redis answering nothing: the BIREYSEL record cannot be read → fail closed
  const store = createRedisStore({ url: server.url, keyPrefix: `tacir${process.pid}:d:`, bucketCount: 16, cache: false, commandTimeoutMs: 100, checkSettings: false });
  await store.open();
  t.teardown(() => store.close());
  await seedStore(store);
  const checks = new CheckService({ store, policy: { tacirWithoutRecord: 'allow' }, mirrorMaxAgeMs: 0, lookupTimeoutMs: 150 });
  server.pause();
  try {
    const a = await checks.check({ brandCode: BRAND, recipient: local(ONAY_IND), type: 'MESAJ', recipientType: 'TACIR', messageType: 'TICARI' });
    t.same([a.decision, a.reason], ['BLOCK', 'STORE_UNAVAILABLE'], 'a paused Redis: fail closed, never TACIR_NOT_REJECTED');
  } finally { server.resume(); }
});

t.test('config policy.tacirOverBireyselRet: default block, allow accepted, anything else refused', async (t) => {
  const base = { dataDir: '/nonexistent-unused', iys: undefined };
  t.equal(loadConfig({ env: {}, overrides: base }).policy.tacirOverBireyselRet, 'block');
  t.equal(loadConfig({ env: {}, overrides: { ...base, policy: { tacirOverBireyselRet: 'allow' } } }).policy.tacirOverBireyselRet, 'allow');
  t.throws(() => loadConfig({ env: {}, overrides: { ...base, policy: { tacirOverBireyselRet: 'maybe' as 'allow' } } }), { code: 'GW_ERR_CONFIG_INVALID' });
});
