import t from 'tap';
import { CheckService } from '../../src/check/check-service.ts';
import { screenOutbound, type OutboundMessage } from '../../src/check/screening.ts';
import type { Movement } from '../../src/domain/types.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';

const mv = (over: Partial<Movement>): Movement => ({
  brandCode: 7, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905320000001', status: 'ONAY',
  source: 'HS_WEB', consentDate: '2025-01-01 10:00:00', creationDate: '2025-01-01 10:00:05',
  transactionId: 'ab'.repeat(32), noncanonical: false, ...over,
});

async function setup(t: { teardown(fn: () => unknown): void }) {
  const store = new MemoryStore({ dataDir: null });
  t.teardown(() => store.close());
  await store.apply([mv({}), mv({ recipient: '+905320000002', status: 'RET', consentDate: '2025-02-01 10:00:00' })]);
  return new CheckService({ store, policy: { tacirWithoutRecord: 'allow' }, mirrorMaxAgeMs: 0 });
}

const msg = (over: Partial<OutboundMessage>): OutboundMessage => ({
  entrance: 'smtp', via: 'test', brandCode: 7, type: 'MESAJ', recipientType: 'BIREYSEL', messageType: 'TICARI',
  recipients: ['05320000001', '+90 532 000 00 02', '05320000003', 'not-a-number'], texts: ['Merhaba'], ...over,
});

t.test('one decision per recipient, in order, from the same policy as /v1/check', async (t) => {
  const checks = await setup(t);
  const s = await screenOutbound(checks, msg({}), { policy: 'treat-as-commercial' });
  t.equal(s.refused, false);
  t.same(s.keep, [true, false, false, false]);
  t.same(s.results.map((r) => r.reason), ['CONSENT_ONAY', 'CONSENT_RET', 'NO_CONSENT', 'INVALID_RECIPIENT']);
  t.same(s.removed.map((r) => [r.index, r.recipient, r.reason]), [[1, '+905320000002', 'CONSENT_RET'], [2, '+905320000003', 'NO_CONSENT'], [3, null, 'INVALID_RECIPIENT']]);
  t.equal(s.allowed, 1);
  const single = await checks.check({ brandCode: 7, recipient: '+90 532 000 00 02', type: 'MESAJ', recipientType: 'BIREYSEL', messageType: 'TICARI' });
  t.equal(single.reason, s.results[1]!.reason, 'same answer as /v1/check');
});

t.test('informational text that promotes: re-classified, refused, or refused when undeclarable', async (t) => {
  const checks = await setup(t);
  const promo = msg({ messageType: 'BILGILENDIRME', texts: ['Tüm ürünlerde %50 indirim! Kampanya için hemen tıklayın'] });
  const treated = await screenOutbound(checks, promo, { policy: 'treat-as-commercial' });
  t.equal(treated.checkedMessageType, 'TICARI');
  t.same(treated.keep, [true, false, false, false]);
  const blocked = await screenOutbound(checks, promo, { policy: 'block' });
  t.equal(blocked.refused, true);
  t.same(blocked.keep, [false, false, false, false]);
  t.same(blocked.results, []);
  const undeclarable = await screenOutbound(checks, promo, { policy: 'treat-as-commercial', canDeclareCommercial: () => false });
  t.equal(undeclarable.refused, true);
  const notice = await screenOutbound(checks, msg({ messageType: 'BILGILENDIRME', texts: ['Siparişiniz kargoya verildi.'] }), { policy: 'block' });
  t.equal(notice.checkedMessageType, 'BILGILENDIRME');
  t.same(notice.keep, [true, true, true, false], 'informational notice passes to RET and no-record; invalid still blocked');
});
