// Issue 12 (noted last session): POST /v1/consents with a RET whose consentDate is past İYS's
// three-business-day window (local H467) applied the refusal to the mirror without an outbox item:
// the mirror held a company refusal İYS was never told of (the rule of issue 12 item 3). Now the
// item is written to the outbox first, then the mirror; a mirror write that fails leaves the
// queued item (harmless: İYS answers H174/H175), never the reverse.
import t from 'tap';
import { makeGateway } from '../helpers/gateway.ts';

const IYS = { baseUrl: 'http://127.0.0.1:9', iysCode: 5, username: 'u', password: 'p', brands: [5], pullIntervalMs: 0, uploadIntervalMs: 0, reconcileDaily: false };
const late = (recipient: string) => ({ brandCode: 5, recipient, type: 'ARAMA', status: 'RET', source: 'HS_CAGRI_MERKEZI', consentDate: '2025-11-20 10:00:00' });

async function outboxItems(gw: Awaited<ReturnType<typeof makeGateway>>) {
  return (await gw.call('GET', '/v1/outbox?limit=1000')).body.items as Array<{ id: string; state: string; consent: { recipient: string; status: string; consentDate: string } }>;
}

t.test('trigger: a late RET (H467) is in the outbox and blocks', async (t) => {
  const gw = await makeGateway(t, { mirrorMaxAgeMs: 0, iys: IYS });
  const r = await gw.call('POST', '/v1/consents', late('05321270401'));
  t.equal(r.status, 202);
  t.match(r.body, { effective: true, queued: true, state: 'pending', iysError: { code: 'H467' } });
  const items = await outboxItems(gw);
  t.equal(items.length, 1);
  t.match(items[0], { id: r.body.id, consent: { recipient: '+905321270401', status: 'RET', consentDate: '2025-11-20 10:00:00' } });
  t.equal((await gw.call('POST', '/v1/check', { brandCode: 5, recipient: '05321270401', type: 'ARAMA' })).body.reason, 'CONSENT_RET');
  t.ok((await gw.call('GET', '/v1/outbox')).body.summary.overdue >= 1, 'its deadline has passed: counted overdue');
});

t.test('variant: the mirror write fails after the outbox write: 503, the item stays queued, the mirror never holds it unqueued', async (t) => {
  const gw = await makeGateway(t, { mirrorMaxAgeMs: 0, iys: IYS });
  const apply = gw.store.apply.bind(gw.store);
  const order: string[] = [];
  let fail = true;
  gw.store.apply = async (ms) => {
    order.push(`mirror (outbox holds ${(await outboxItems(gw)).length})`);
    if (fail) { fail = false; throw new Error('disk gone'); }
    return apply(ms);
  };
  const r = await gw.call('POST', '/v1/consents', late('05321270402'));
  t.equal(r.status, 503);
  t.equal(r.body.code, 'GW_ERR_STORE_UNAVAILABLE');
  t.same(order, ['mirror (outbox holds 1)'], 'the outbox item was durable before the mirror write');
  t.equal((await outboxItems(gw)).length, 1);
  // the client retries: the refusal is applied, and the outbox holds it (a second item: İYS answers H174 to one)
  const again = await gw.call('POST', '/v1/consents', late('05321270402'));
  t.equal(again.status, 202);
  t.equal((await gw.call('POST', '/v1/check', { brandCode: 5, recipient: '05321270402', type: 'ARAMA' })).body.reason, 'CONSENT_RET');
  t.ok((await outboxItems(gw)).every((i) => i.consent.recipient === '+905321270402'));
});
