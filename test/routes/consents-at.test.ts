import t from 'tap';
import { makeGateway } from '../helpers/gateway.ts';
import { mv } from '../mirror/store-contract.ts';

// Issue 15: GET /v1/consents?at= — the record as the mirror held it at a past time, from the
// movement history, against states computed by hand.
const A = 700_101;
const B = 700_102;
const KEY_A = 'brand-a-key-0123456789abcdef';
const T = Date.parse('2026-11-02T06:00:00Z'); // 09:00 Istanbul
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

async function gateway(t: Parameters<typeof makeGateway>[0], logLevel: 'info' | 'trace' = 'info') {
  const gw = await makeGateway(t, {
    logLevel,
    brands: [A, B],
    apiKeys: [{ name: 'brand-a', key: KEY_A, brands: [A], scopes: ['consents'] }],
  });
  const phone = '+905321220080';
  const onay = mv({ brandCode: A, recipient: phone, consentDate: '2026-03-01 09:00:00', creationDate: '2026-03-01 09:00:02', transactionId: 'at-onay-1' });
  const ret = mv({ ...onay, status: 'RET', source: 'HS_MESAJ', consentDate: '2026-10-05 10:00:00', creationDate: '2026-10-05 10:00:03', transactionId: 'at-ret' });
  const onay2 = mv({ ...onay, consentDate: '2026-11-01 12:00:00', creationDate: '2026-11-01 12:00:01', transactionId: 'at-onay-2' });
  const tacir = mv({ ...onay, recipientType: 'TACIR', status: 'RET', transactionId: 'at-tacir' });
  const brandB = mv({ ...onay, brandCode: B, status: 'RET', transactionId: 'at-b' });
  await gw.store.apply([onay], { appliedAtMs: T });
  await gw.store.apply([tacir, brandB], { appliedAtMs: T + 5 * MIN });
  await gw.store.apply([ret], { appliedAtMs: T + 10 * MIN });
  await gw.store.apply([onay2], { appliedAtMs: T + 20 * MIN });
  const get = (q: string, key?: string) => gw.call('GET', `/v1/consents?${q}`, undefined, key ? { authorization: `Bearer ${key}` } : {});
  return { gw, get, onay, ret, onay2 };
}

t.test('at=: ONAY, then RET, then ONAY again, each at its applied time', async (t) => {
  const { get } = await gateway(t);
  const q = (at: string | number) => get(`brandCode=${A}&type=MESAJ&recipient=05321220080&at=${encodeURIComponent(String(at))}`);
  const before = await q(T - 1);
  t.equal(before.status, 404, 'a time before the first movement');
  t.equal(before.body.code, 'GW_ERR_NO_RECORD_AT');
  t.match(before.body.message, /held no record of this key at 2026-11-02T05:59:59\.999Z .*begins at 2026-11-02T06:00:00\.000Z/);

  const first = await q(T);
  t.equal(first.status, 200);
  t.same([first.body.current.status, first.body.current.transactionId, first.body.appliedAt, first.body.at, first.body.atMs],
    ['ONAY', 'at-onay-1', T, iso(T), T]);
  t.same(first.body.movements.map((m: { transactionId: string }) => m.transactionId), ['at-onay-1']);
  t.same(first.body.key, { brandCode: A, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905321220080' });

  // ISO 8601 with an offset: 09:09:59.999 Istanbul is one ms before the RET was applied
  const justBefore = await q('2026-11-02T09:09:59.999+03:00');
  t.same([justBefore.status, justBefore.body.current.status], [200, 'ONAY']);
  const atRet = await q('2026-11-02T06:10:00Z');
  t.same([atRet.body.current.status, atRet.body.current.source, atRet.body.appliedAt], ['RET', 'HS_MESAJ', T + 10 * MIN]);
  t.same(atRet.body.movements.map((m: { transactionId: string; appliedAt: number; outcome: string }) => [m.transactionId, m.appliedAt, m.outcome]),
    [['at-ret', T + 10 * MIN, 'applied'], ['at-onay-1', T, 'applied']], 'movements up to at, newest first, with applied time and outcome');
  const later = await q(T + 15 * MIN);
  t.equal(later.body.current.status, 'RET', 'between RET and the second ONAY');
  const now = await q(Date.now());
  t.same([now.body.current.status, now.body.current.transactionId, now.body.movements.length, now.body.historyFrom], ['ONAY', 'at-onay-2', 3, T]);
  const plain = await get(`brandCode=${A}&type=MESAJ&recipient=05321220080`);
  t.same(plain.body.current.transactionId, 'at-onay-2', 'without at= the answer is the current record, unchanged');
  t.notOk('at' in plain.body);
});

t.test('at=: TACIR and other brands are their own keys; brand-scoped keys see only their brands', async (t) => {
  const { get } = await gateway(t);
  const tacirEarly = await get(`brandCode=${A}&type=MESAJ&recipientType=TACIR&recipient=05321220080&at=${T + MIN}`);
  t.same([tacirEarly.status, tacirEarly.body.code], [404, 'GW_ERR_NO_RECORD_AT']);
  const tacir = await get(`brandCode=${A}&type=MESAJ&recipientType=TACIR&recipient=05321220080&at=${T + 6 * MIN}`);
  t.same([tacir.status, tacir.body.current.status, tacir.body.current.recipientType], [200, 'RET', 'TACIR']);
  const arama = await get(`brandCode=${A}&type=ARAMA&recipient=05321220080&at=${T + 30 * MIN}`);
  t.match(arama.body, { code: 'GW_ERR_NO_RECORD_AT', message: /no movement of this key/ }, 'another type: no record');
  const b = await get(`brandCode=${B}&type=MESAJ&recipient=05321220080&at=${T + 6 * MIN}`);
  t.same([b.status, b.body.current.status, b.body.current.transactionId], [200, 'RET', 'at-b'], 'the full key sees brand B');
  const scoped = await get(`brandCode=${B}&type=MESAJ&recipient=05321220080&at=${T + 6 * MIN}`, KEY_A);
  t.equal(scoped.status, 403, 'a brand-A key does not see brand B at any time');
  const own = await get(`brandCode=${A}&type=MESAJ&recipient=05321220080&at=${T + 6 * MIN}`, KEY_A);
  t.same([own.status, own.body.current.status], [200, 'ONAY']);
});

t.test('at=: an unreadable time is a coded 400, never a record', async (t) => {
  const { get } = await gateway(t);
  for (const bad of ['yesterday', '2026-13-45', '2026-11-02T25:00:00Z', '', '1e12', '-5', '2026/11/02', 'x'.repeat(41)]) {
    const r = await get(`brandCode=${A}&type=MESAJ&recipient=05321220080&at=${encodeURIComponent(bad)}`);
    t.equal(r.status, 400, `at=${JSON.stringify(bad)}`);
    t.equal(r.body.code, 'GW_ERR_VALIDATION');
  }
  const bad = await get(`brandCode=${A}&type=MESAJ&recipient=05321220080&at=tomorrow`);
  t.equal(bad.body.field, 'at');
});

t.test('at=: an unencoded + (a space after URL decoding) is a 400 whose message says to write it %2B', async (t) => {
  const { get } = await gateway(t);
  const r = await get(`brandCode=${A}&type=MESAJ&recipient=05321220080&at=2026-03-03T14:05:00+03:00`);
  t.same([r.status, r.body.code, r.body.field], [400, 'GW_ERR_VALIDATION', 'at']);
  t.match(r.body.message, /write it %2B/);
  const other = await get(`brandCode=${A}&type=MESAJ&recipient=05321220080&at=yesterday`);
  t.notMatch(other.body.message, /write it %2B/);
});

t.test('at=: the logs of the request never carry the recipient, even when the history read fails naming it', async (t) => {
  const { gw, get } = await gateway(t, 'trace');
  gw.logs.length = 0;
  const r = await get(`brandCode=${A}&type=MESAJ&recipient=05321220080&at=${T}`);
  t.equal(r.status, 200);
  gw.store.timeline = async (k) => { throw new Error(`history read failed for ${k.recipient} / ayse@example.com`); };
  const failed = await get(`brandCode=${A}&type=MESAJ&recipient=05321220080&at=${T}`);
  t.same([failed.status, failed.body.code], [503, 'GW_ERR_STORE_UNAVAILABLE'], 'fails closed with a coded error');
  t.notMatch(JSON.stringify(failed.body), /5321220080|ayse@/, 'the answer does not echo the driver text');
  const logged = gw.logs.join('');
  t.match(logged, /history read failed for/, 'the failure was logged');
  t.notMatch(logged, /5321220080/, 'no phone number in the logs');
  t.notMatch(logged, /ayse@example\.com/, 'no e-mail address in the logs');
});
