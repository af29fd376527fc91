import t from 'tap';
import {
  collapseBatch, isIysEmail, parseIysDateStrict, phoneErrors, toIysDate, transitionError, validateConsent,
} from '../../src/iys/consent-rules.ts';
import { isRetryable } from '../../src/iys/h-codes.ts';

const now = new Date('2026-05-12T07:00:00Z'); // 10:00 Turkish time

t.test('İYS dates: format (H158) vs calendar validity (H157); Turkish time both ways', async (t) => {
  t.equal(parseIysDateStrict('2026-05-12T09:00:00'), 'format');
  t.equal(parseIysDateStrict('12.05.2026 09:00'), 'format');
  t.equal(parseIysDateStrict('2026-13-01 10:00:00'), 'invalid');
  t.equal(parseIysDateStrict('2026-02-30 10:00:00'), 'invalid');
  t.equal((parseIysDateStrict('2025-01-01 01:30:00') as Date).toISOString(), '2024-12-31T22:30:00.000Z');
  t.equal(toIysDate(new Date('2024-12-31T22:30:00Z')), '2025-01-01 01:30:00', 'C02: never UTC fields');
});

t.test('phones: E.164 with +, ≤ 15 chars, canonical only (no +9005…)', async (t) => {
  t.same(phoneErrors('+905321234567'), []);
  t.same(phoneErrors('+902121234567'), [], 'landline valid for phone types');
  t.same(phoneErrors('905321234567'), ['H121']);
  t.same(phoneErrors('+9005321234567'), ['H121']);
  t.same(phoneErrors('+05543213232'), ['H121']);
  t.same(phoneErrors('+9053212345678901'), ['H160', 'H121']);
  t.same(phoneErrors('+0554321323223333333333', 'query'), ['H166']);
  t.same(phoneErrors('+90532123456'), ['H121'], 'too short');
});

t.test('e-mail rules (reference §4.2 / §6.2)', async (t) => {
  for (const ok of ['a@bc.de', 'ali+kampanya@gmail.com', '_ali@x.com', 'a--b@xy.com', 'user@xn--rnek-4qa.com.tr']) t.ok(isIysEmail(ok), ok);
  for (const bad of ['örnek@mail.com', 'a@b.c', 'ali veli@x.com', 'ornekadiniz.com', `${'a'.repeat(260)}@x.com`]) t.notOk(isIysEmail(bad), bad);
});

t.test('validateConsent: H-codes in İYS order; H467 through the calendar predicate', async (t) => {
  const ok = { recipient: '+905321234567', type: 'MESAJ', source: 'HS_WEB', status: 'ONAY', consentDate: '2026-05-12 09:00:00' };
  const codes = (b: object, within?: (c: Date, n: Date) => boolean) =>
    validateConsent(b, { now, ...(within ? { withinUploadWindow: within } : {}) }).map((e) => e.code);
  t.same(codes(ok), []);
  t.same(codes({ ...ok, status: undefined, type: undefined }), ['H111', 'H110']);
  t.same(codes({ recipient: '+905321234567', type: 'MESAJ', status: 'ONAY', recipientType: 'TACIR' }), [], 'TACIR without source/date');
  t.same(codes({ ...ok, source: 'IYS_MOBIL' }), ['H119'], 'İYS sources are not writable');
  t.same(codes({ ...ok, retailerAccess: [] }), ['H163']);
  t.same(codes(ok, () => false), ['H467']);
  t.same(codes({ ...ok, consentDate: '2020-01-13 13:35:13' }, () => { throw new Error('not asked'); }), ['H467'], 'far past: out without asking the calendar');
  t.same(codes({ ...ok, source: 'HS_2015', consentDate: '2015-05-01 00:00:00' }, () => false), [], 'HS_2015 exempt');
  const outOfTable = () => { throw Object.assign(new Error('no table'), { code: 'GW_ERR_CALENDAR_OUT_OF_RANGE' }); };
  t.same(codes(ok, outOfTable), [], 'no holiday table for the year: İYS decides');
  t.throws(() => codes(ok, () => { throw new Error('boom'); }), /boom/);
  t.same(validateConsent({ ...ok, name: 'x' }, { now, index: 4 })[0], { code: 'H118', message: validateConsent({ name: 'x' }, { now })[0]!.message, location: ['name'], value: 'x', index: 4 });
});

t.test('transitions (reference §4.4)', async (t) => {
  const base = { recipient: '+905321234567', type: 'MESAJ' as const, source: 'HS_WEB' };
  t.equal(transitionError(undefined, { ...base, status: 'RET', consentDate: '2026-05-12 09:00:00' })?.code, 'H175');
  t.equal(transitionError(undefined, { ...base, status: 'ONAY', consentDate: '2026-05-12 09:00:00' }), null);
  const onay = { status: 'ONAY' as const, consentDate: '2026-05-12 09:00:00', source: 'HS_WEB' };
  t.equal(transitionError(onay, { ...base, status: 'ONAY', consentDate: '2026-05-12 09:30:00' }), null, 'ONAY re-save');
  t.equal(transitionError(onay, { ...base, status: 'RET', consentDate: '2026-05-12 08:00:00' })?.code, 'H178');
  t.equal(transitionError(onay, { ...base, status: 'RET', consentDate: '2026-05-12 09:00:00' }), null, 'same date allowed');
  t.equal(transitionError({ ...onay, status: 'RET' }, { ...base, status: 'RET', consentDate: '2026-05-12 10:00:00' })?.code, 'H174');
  t.equal(transitionError(onay, { recipient: '+905321234567', type: 'MESAJ', status: 'RET', recipientType: 'TACIR', consentDate: '2026-05-12 10:00:00' })?.code, 'H463');
  t.equal(transitionError(onay, { ...base, status: 'RET', recipientType: 'TACIR' })?.code, 'H462');
});

t.test('collapseBatch keeps the newest per key, RET on a tie (C11)', async (t) => {
  const m = (recipient: string, status: 'ONAY' | 'RET', consentDate: string, type: 'MESAJ' | 'ARAMA' = 'MESAJ') => ({ recipient, type, status, consentDate, source: 'HS_WEB' });
  const r = collapseBatch([
    m('+905321234567', 'ONAY', '2026-05-12 09:00:00'),
    m('+905321234567', 'RET', '2026-05-12 08:00:00'),
    m('+905321234567', 'ARAMA' === 'ARAMA' ? 'RET' : 'ONAY', '2026-05-12 07:00:00', 'ARAMA'),
    m('+905321234568', 'ONAY', '2026-05-12 09:00:00'),
    m('+905321234568', 'RET', '2026-05-12 09:00:00'),
  ]);
  t.same(r.dropped, [1, 3]);
  t.same(r.items.map((i) => `${i.recipient}/${i.type}/${i.status}`), ['+905321234567/MESAJ/ONAY', '+905321234567/ARAMA/RET', '+905321234568/MESAJ/RET']);
});

t.test('retryable answers: 5xx, 429 (not H084), H123, H124, H192 — never other 4xx', async (t) => {
  t.ok(isRetryable(500, ['H015']));
  t.ok(isRetryable(503, ['H192']));
  t.ok(isRetryable(429, ['H124']));
  t.ok(isRetryable(400, ['H123']));
  t.notOk(isRetryable(429, ['H084']));
  for (const c of ['H175', 'H174', 'H178', 'H085']) t.notOk(isRetryable(400, [c]), c);
  t.notOk(isRetryable(422, ['H121']));
  t.notOk(isRetryable(401, ['H351']));
});
