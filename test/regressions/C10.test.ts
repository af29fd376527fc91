/**
 * C10 (field-cases.md): a public client defines the refusal as `RED`; İYS accepts only
 * ONAY/RET (H115). Legacy aliases are mapped in one place (coerceConsentStatus); what is sent to
 * İYS is always `RET`; an unknown status is a 400 with the field path; a raw `RED` never leaves
 * the client (pre-validation), and the simulator answers it with H115 like İYS.
 */
import t from 'tap';
import { coerceConsentStatus } from '../../src/iys/consent-rules.ts';
import { startTestSimulator, simulatorClient, DEMO } from '../../src/simulator/testing.ts';

t.test('aliases map to İYS spelling; unknown → GW_ERR_VALIDATION 400 with field', async (t) => {
  t.equal(coerceConsentStatus('RED'), 'RET');
  t.equal(coerceConsentStatus('ret'), 'RET');
  t.equal(coerceConsentStatus(' Ret '), 'RET');
  t.equal(coerceConsentStatus('onay'), 'ONAY');
  t.equal(coerceConsentStatus('ON'), 'ONAY');
  for (const bad of ['REDD', 'iptal', '', null, 1]) {
    const e = (() => { try { coerceConsentStatus(bad, 'items.3.status'); return null; } catch (x) { return x as { code: string; statusCode: number; field: string }; } })();
    t.match(e, { code: 'GW_ERR_VALIDATION', statusCode: 400, field: 'items.3.status' }, String(bad));
  }
});

t.test('raw RED never reaches İYS; the simulator answers it with H115', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: '2026-05-12T10:00:00+03:00', clockFrozen: true });
  t.teardown(() => sim.close());
  const { client } = await simulatorClient(sim);
  const body = { recipient: '+905550000001', type: 'MESAJ', source: 'HS_WEB', status: 'RED', consentDate: sim.iysNow(-60_000), recipientType: 'BIREYSEL' };
  const e = await client.addConsent(DEMO.brandCode, body as never).catch((x) => x);
  t.equal(e.code, 'GW_ERR_IYS_INVALID_CONSENT');
  t.same(e.iysCodes, ['H115']);
  t.equal(client.attempts, 0);
  const raw = await sim.http('POST', `/sps/${DEMO.iysCode}/brands/${DEMO.brandCode}/consents`, body, { authorization: `Bearer ${await sim.token()}` });
  t.equal(raw.status, 422);
  t.same(raw.body.errors[0], { code: 'H115', message: 'Durum (status) için uygun değerler: ONAY, RET', location: ['status'], value: 'RED' });
});
