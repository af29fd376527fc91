/**
 * C25 (field-cases.md): old tzdata / hand-made tables still give Istanbul +02 with DST; Turkey is
 * permanently +03:00 since 2016-09-07. Always 15:00 / +03:00; startup self-check; no DST logic.
 */
import t from 'tap';
import { assertIstanbulOffset, formatIysDate, parseIysDate, toIstanbulIso } from '../../src/domain/turkish-time.ts';

t.test('2025-01-15T12:00:00Z in Europe/Istanbul is 15:00 +03:00', async (t) => {
  t.equal(formatIysDate(new Date('2025-01-15T12:00:00Z')), '2025-01-15 15:00:00');
  t.equal(toIstanbulIso(new Date('2025-01-15T12:00:00Z')), '2025-01-15T15:00:00+03:00');
});

t.test('2016-10-30T05:00 local is +03:00 (old tzdata switched to +02 that night)', async (t) => {
  t.equal(parseIysDate('2016-10-30 05:00:00').toISOString(), '2016-10-30T02:00:00.000Z');
  t.equal(toIstanbulIso(new Date('2016-10-30T02:00:00Z')), '2016-10-30T05:00:00+03:00');
  t.equal(toIstanbulIso(new Date('2016-12-15T12:00:00Z')), '2016-12-15T15:00:00+03:00', 'first winter without DST');
});

t.test('startup self-check passes here and refuses a +02 runtime', async (t) => {
  t.doesNotThrow(() => assertIstanbulOffset());
  const plusTwo = (d: Date) => new Date(d.getTime() + 2 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
  t.throws(() => assertIstanbulOffset(plusTwo), { code: 'GW_ERR_TIMEZONE_SELF_CHECK', statusCode: 500 });
});
