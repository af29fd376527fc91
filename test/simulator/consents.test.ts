import t, { type Test } from 'tap';
import { startTestSimulator, DEMO } from '../../src/simulator/testing.ts';

// Tuesday 2026-05-12 10:00 Turkish time (reference §6 "now").
const START = '2026-05-12T10:00:00+03:00';
const P = `/sps/${DEMO.iysCode}/brands/${DEMO.brandCode}`;
const V2 = `/v2${P}`;

async function setup(t: Test, opts = {}) {
  const sim = await startTestSimulator({ clockStartAt: START, clockFrozen: true, ...opts });
  t.teardown(() => sim.close());
  const auth = { authorization: `Bearer ${await sim.token()}` };
  const post = (path: string, body: unknown) => sim.http('POST', path, body, auth);
  return { sim, auth, post };
}

const base = { recipient: '+905321234567', type: 'MESAJ', source: 'HS_WEB', recipientType: 'BIREYSEL' };

t.test('single write v1: 64-hex transactionId, creationDate in Turkish time; state machine', async (t) => {
  const { post } = await setup(t);
  const first = await post(`${P}/consents`, { ...base, status: 'ONAY', consentDate: '2026-05-12 09:30:00' });
  t.equal(first.status, 200);
  t.match(first.body.transactionId, /^[0-9a-f]{64}$/);
  t.equal(first.body.creationDate, '2026-05-12 10:00:00');

  const reSave = await post(`${P}/consents`, { ...base, status: 'ONAY', consentDate: '2026-05-12 09:40:00' });
  t.equal(reSave.status, 200, 'ONAY over ONAY with a newer date is a re-save (C3)');
  const older = await post(`${P}/consents`, { ...base, status: 'RET', consentDate: '2026-05-11 18:00:00' });
  t.equal(older.status, 400);
  t.equal(older.body.errors[0].code, 'H178', 'older consentDate (C5)');
  const ret = await post(`${P}/consents`, { ...base, status: 'RET', consentDate: '2026-05-12 09:50:00' });
  t.equal(ret.status, 200);
  const retAgain = await post(`${P}/consents`, { ...base, status: 'RET', consentDate: '2026-05-12 09:55:00' });
  t.equal(retAgain.status, 400);
  t.same(retAgain.body.errors[0], { code: 'H174', message: 'İzin durumu (status) güncellemesi için farklı bir durum girilmelidir. İzin durumu: RET' });
  const firstRet = await post(`${P}/consents`, { ...base, recipient: '+905321234568', status: 'RET', consentDate: '2026-05-12 09:00:00' });
  t.equal(firstRet.status, 400);
  t.equal(firstRet.body.errors[0].code, 'H175');
});

t.test('v2 single write is idempotent: same body → same transactionId, one movement', async (t) => {
  const { sim, post } = await setup(t);
  const body = { ...base, status: 'ONAY', consentDate: '2026-05-12 09:30:00' };
  const a = await post(`${V2}/consents`, body);
  await sim.advance(5000);
  const b = await post(`${V2}/consents`, body);
  t.equal(a.status, 200);
  t.equal(b.status, 200);
  t.equal(b.body.transactionId, a.body.transactionId);
  t.equal(b.body.creationDate, a.body.creationDate);
  t.equal(sim.ctx.state.movements.length, 1);
});

t.test('field validation: 422 codes with location and value', async (t) => {
  const { post } = await setup(t);
  const ok = { ...base, status: 'ONAY', consentDate: '2026-05-12 09:30:00' };
  const cases: [Record<string, unknown>, number, string[]][] = [
    [{ ...ok, status: 'RED' }, 422, ['H115']],
    [{ ...ok, type: 'SMS' }, 422, ['H117']],
    [{ ...ok, recipientType: 'KURUMSAL' }, 422, ['H116']],
    [{ ...ok, name: 'Ali' }, 422, ['H118']],
    [{ ...ok, retailerCode: '' }, 400, ['H267']],
    [{ ...ok, source: 'HS_KARAR' }, 422, ['H408']],
    [{ ...ok, source: 'HS_2015', consentDate: '2014-12-31 10:00:00' }, 422, ['H155']],
    [{ ...ok, consentDate: '2015-04-30 23:59:00' }, 422, ['H156']],
    [{ ...ok, consentDate: '2026-13-01 10:00:00' }, 422, ['H157']],
    [{ ...ok, consentDate: '2026-05-12T09:00:00' }, 422, ['H158']],
    [{ ...ok, consentDate: '2026-05-12 10:05:00' }, 422, ['H162']],
    [{ ...ok, recipient: '905321234567' }, 422, ['H121']],
    [{ ...ok, recipient: '+9005321234567' }, 422, ['H121']],
    [{ ...ok, recipient: '+9053212345678901' }, 422, ['H160', 'H121']],
    [{ ...ok, type: 'EPOSTA', recipient: 'örnek@mail.com' }, 422, ['H120']],
    [{ ...ok, type: 'EPOSTA', recipient: 'a@b.c' }, 422, ['H120']],
    [{ ...ok, recipient: undefined }, 422, ['H114']],
    [{ ...ok, consentDate: '2026-05-05 10:00:00' }, 422, ['H467']],
  ];
  for (const [body, status, codes] of cases) {
    const r = await post(`${P}/consents`, JSON.parse(JSON.stringify(body)));
    t.equal(r.status, status, JSON.stringify(body));
    t.same(r.body.errors.map((e: { code: string }) => e.code), codes, JSON.stringify(body));
  }
  const loc = await post(`${P}/consents`, { ...ok, type: 'EPOSTAa' });
  t.same(loc.body.errors[0].location, ['type']);
  t.equal(loc.body.errors[0].value, 'EPOSTAa');
});

t.test('H467 counts Turkish business days (calendar), HS_2015 exempt', async (t) => {
  // Monday 2026-05-25 12:00: Kurban arife is Tue 26 May, bayram 27–30 May.
  const { post } = await setup(t, { clockStartAt: '2026-06-01T12:00:00+03:00' });
  const ok = { ...base, status: 'ONAY' };
  const fri = await post(`${P}/consents`, { ...ok, consentDate: '2026-05-22 10:00:00' });
  t.equal(fri.status, 200, 'collected Fri 22 May: Mon 25, Tue 26 (arife), Mon 1 Jun → still in window (G19)');
  const thu = await post(`${P}/consents`, { ...ok, recipient: '+905321234569', consentDate: '2026-05-21 10:00:00' });
  t.equal(thu.status, 422);
  t.equal(thu.body.errors[0].code, 'H467');
  const hs2015 = await post(`${P}/consents`, { ...ok, recipient: '+905321234570', source: 'HS_2015', consentDate: '2015-05-01 00:00:00' });
  t.equal(hs2015.status, 200, 'HS_2015 with its fixed date is exempt from H467 (C7)');
});

t.test('TACIR: first insert without source/date; updates need both (H463/H462)', async (t) => {
  const { post } = await setup(t);
  const tacir = { recipient: '+905321234571', type: 'MESAJ', recipientType: 'TACIR' };
  t.equal((await post(`${P}/consents`, { ...tacir, status: 'ONAY' })).status, 200, 'C17');
  const noSource = await post(`${P}/consents`, { ...tacir, status: 'RET', consentDate: '2026-05-12 09:00:00' });
  t.equal(noSource.body.errors[0].code, 'H463');
  const noDate = await post(`${P}/consents`, { ...tacir, status: 'RET', source: 'HS_WEB' });
  t.equal(noDate.body.errors[0].code, 'H462');
  t.equal((await post(`${P}/consents`, { ...tacir, status: 'RET', source: 'HS_WEB', consentDate: '2026-05-12 09:00:00' })).status, 200);
});

t.test('e-mail stored lower-case; dealers H180; quota H525; subscription H521/H520/H524/H586', async (t) => {
  const { sim, post } = await setup(t);
  const mail = await post(`${P}/consents`, { recipient: 'Ali.Veli@Example.COM', type: 'EPOSTA', source: 'HS_WEB', status: 'ONAY', consentDate: '2026-05-12 09:00:00' });
  t.equal(mail.status, 200);
  const st = await post(`${P}/consents/status`, { recipient: 'ali.veli@example.com', type: 'EPOSTA', recipientType: 'BIREYSEL' });
  t.equal(st.body.recipient, 'ali.veli@example.com');
  t.equal(st.body.status, 'ONAY');

  const dealer = await post(`${P}/consents`, { ...base, status: 'ONAY', consentDate: '2026-05-12 09:00:00', retailerAccess: [DEMO.retailerCode, 12786531] });
  t.equal(dealer.status, 403);
  t.same(dealer.body.errors[0].location, ['retailerAccess', 1]);
  t.equal(dealer.body.errors[0].code, 'H180');

  sim.ctx.accounts.get(DEMO.username)!.subscription.consentLimit = 1;
  const quota = await post(`${P}/consents`, { ...base, recipient: '+905321234572', status: 'ONAY', consentDate: '2026-05-12 09:00:00' });
  t.equal(quota.status, 422);
  t.equal(quota.body.errors[0].code, 'H525');

  const sub = async (patch: object) => sim.http('PATCH', `/_sim/accounts/${DEMO.username}/subscription`, patch);
  const probe = () => post(`${P}/consents/status`, { recipient: '+905321234567', type: 'MESAJ', recipientType: 'BIREYSEL' });
  await sub({ status: 'CLOSED' });
  t.equal((await probe()).body.errors[0].code, 'H521');
  await sub({ status: 'PAUSED' });
  t.equal((await probe()).body.errors[0].code, 'H520');
  const subq = await sim.http('GET', `/sps/${DEMO.iysCode}/subscription`, undefined, { authorization: (await setupAuth(sim)) });
  t.equal(subq.status, 200, 'subscription query allowed while PAUSED');
  t.equal(subq.body.status, 'PAUSED');
  await sub({ status: 'NONE' });
  t.equal((await probe()).body.errors[0].code, 'H524');
  await sub({ status: 'ACTIVE', apiIncluded: false });
  const pkg = await probe();
  t.equal(pkg.status, 403);
  t.equal(pkg.body.errors[0].code, 'H586');
});

async function setupAuth(sim: Awaited<ReturnType<typeof startTestSimulator>>): Promise<string> {
  return `Bearer ${await sim.token()}`;
}

t.test('status queries: no record → {}; multi-status lists ONAY only; H464/H193', async (t) => {
  const { post } = await setup(t);
  t.same((await post(`${P}/consents/status`, { recipient: '+905321234599', type: 'MESAJ', recipientType: 'BIREYSEL' })).body, {});
  await post(`${P}/consents`, { ...base, status: 'ONAY', consentDate: '2026-05-12 09:00:00' });
  await post(`${P}/consents`, { ...base, recipient: '+905321234568', status: 'ONAY', consentDate: '2026-05-12 09:00:00' });
  await post(`${P}/consents`, { ...base, recipient: '+905321234568', status: 'RET', consentDate: '2026-05-12 09:10:00' });
  const multi = await post(`${P}/consents/BIREYSEL/status/MESAJ`, { recipients: ['+905321234567', '+905321234568', '+905321234569'] });
  t.equal(multi.status, 200);
  t.same(multi.body.list, ['+905321234567']);
  t.match(multi.body.requestId, /^[0-9a-f-]{36}$/);
  const mismatch = await post(`${P}/consents/BIREYSEL/status/MESAJ`, { recipients: ['test@gmail.com'] });
  t.equal(mismatch.body.errors[0].code, 'H464');
  const dup = await post(`${P}/consents/BIREYSEL/status/MESAJ`, { recipients: ['+905321234567', '+905321234568', '+905321234569', '+905321234567'] });
  t.same(dup.body.errors[0], { code: 'H193', message: 'Alıcı (recipient) değeri liste içinde tekrarlanamaz.', location: ['recipients', 3], value: '+905321234567' });
  t.equal((await post(`${P}/consents/BIREYSEL/status/MESAJ`, { recipients: [] })).body.errors[0].code, 'H164');
  t.equal((await post(`${P}/consents/BIREYSEL/status/MESAJ`, { recipients: {} })).body.errors[0].code, 'H478');
  t.equal((await post(`${P}/consents/BIREYSEL/status/MESAJ`, {})).body.errors[0].code, 'H168');
});

t.test('history: newest consentDate first, pagination and limit checks', async (t) => {
  const { post } = await setup(t);
  await post(`${P}/consents`, { ...base, status: 'ONAY', consentDate: '2026-05-12 09:00:00' });
  await post(`${P}/consents`, { ...base, status: 'RET', consentDate: '2026-05-12 09:10:00' });
  await post(`${P}/consents`, { ...base, status: 'ONAY', consentDate: '2026-05-12 09:20:00' });
  const key = { recipient: base.recipient, type: 'MESAJ', recipientType: 'BIREYSEL' };
  const h = await post(`${P}/consents/history?limit=2&offset=0`, key);
  t.equal(h.status, 200);
  t.same(h.body.list.map((m: { consentDate: string; status: string }) => [m.consentDate, m.status]), [['2026-05-12 09:20:00', 'ONAY'], ['2026-05-12 09:10:00', 'RET']]);
  t.same(h.body.pagination, { offset: 0, pageSize: 2, totalCount: 3 });
  const codes = async (q: string) => (await post(`${P}/consents/history${q}`, key)).body.errors[0].code;
  t.equal(await codes('?limit=-1'), 'H182');
  t.equal(await codes('?limit=0'), 'H187');
  t.equal(await codes('?limit=1000'), 'H186');
  t.equal(await codes('?offset=-1'), 'H183');
  t.equal((await post(`${P}/consents/history`, { recipient: base.recipient, type: 'MESAJ' })).body.errors[0].code, 'H170');
});
