import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  assertIstanbulOffset, formatIysDate, isIysDate, istanbulDate, parseIysDate, toIstanbulIso,
} from '../../src/domain/turkish-time.ts';
import { isGatewayError } from '../../src/errors.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

t.test('formatIysDate: Turkish wall clock, +03:00 all year', async (t) => {
  t.equal(formatIysDate(new Date('2024-12-31T21:30:00Z')), '2025-01-01 00:30:00');
  t.equal(formatIysDate(new Date('2024-12-31T22:30:00Z')), '2025-01-01 01:30:00', 'C02');
  t.equal(formatIysDate(new Date('2025-06-10T11:00:00Z')), '2025-06-10 14:00:00', 'C02 summer');
  t.equal(formatIysDate(new Date('2025-01-15T12:00:00Z')), '2025-01-15 15:00:00', 'C25 winter');
  t.equal(formatIysDate(new Date('2026-02-28T21:00:00Z')), '2026-03-01 00:00:00', 'month boundary, non-leap');
  t.equal(formatIysDate(new Date('2028-02-28T21:00:00Z')), '2028-02-29 00:00:00', 'leap day');
  t.equal(formatIysDate(new Date('2026-11-29T11:00:00.999Z')), '2026-11-29 14:00:00', 'milliseconds truncated');
  t.equal(formatIysDate(new Date('2016-09-06T21:00:00Z')), '2016-09-07 00:00:00', 'first fixed-offset instant');
});

t.test('before 2016-09-07 the historical offset applies (no DST rules of our own)', async (t) => {
  t.equal(formatIysDate(new Date('2015-05-01T00:00:00+03:00')), '2015-05-01 00:00:00', 'HS_2015 date, summer time +03');
  t.equal(formatIysDate(new Date('2015-12-01T12:00:00Z')), '2015-12-01 14:00:00', 'winter 2015: +02');
  t.equal(toIstanbulIso(new Date('2015-12-01T12:00:00Z')), '2015-12-01T14:00:00+02:00');
  t.equal(parseIysDate('2015-12-01 14:00:00').toISOString(), '2015-12-01T12:00:00.000Z');
  t.equal(parseIysDate('2015-05-01 00:00:00').toISOString(), '2015-04-30T21:00:00.000Z');
  t.equal(parseIysDate('2016-09-06 23:59:59').toISOString(), '2016-09-06T20:59:59.000Z');
  t.equal(parseIysDate('2016-09-07 00:00:00').toISOString(), '2016-09-06T21:00:00.000Z');
});

t.test('istanbulDate and toIstanbulIso', async (t) => {
  t.equal(istanbulDate(new Date('2026-03-12T22:30:00Z')), '2026-03-13', 'Istanbul date, not UTC date');
  t.equal(istanbulDate(new Date('2026-03-12T20:59:59Z')), '2026-03-12');
  t.equal(istanbulDate(new Date('2026-03-12T21:00:00Z')), '2026-03-13');
  t.equal(toIstanbulIso(new Date('2026-11-29T11:00:00Z')), '2026-11-29T14:00:00+03:00');
  t.equal(toIstanbulIso(new Date('2025-12-31T21:00:00Z')), '2026-01-01T00:00:00+03:00');
  t.equal(new Date(toIstanbulIso(new Date('2026-07-01T05:06:07Z'))).toISOString(), '2026-07-01T05:06:07.000Z', 'round trip');
});

t.test('parseIysDate reads Turkish time and round-trips with formatIysDate', async (t) => {
  t.equal(parseIysDate('2025-06-05 10:00:00').toISOString(), '2025-06-05T07:00:00.000Z', 'C03: TRT, not UTC');
  t.equal(parseIysDate('2025-01-01 01:30:00').toISOString(), '2024-12-31T22:30:00.000Z');
  t.equal(parseIysDate('2028-02-29 23:59:59').toISOString(), '2028-02-29T20:59:59.000Z');
  for (const s of ['2025-01-01 00:00:00', '2026-12-31 23:59:59', '2030-06-15 12:34:56', '2016-01-10 08:00:00']) {
    t.equal(formatIysDate(parseIysDate(s)), s, `round trip ${s}`);
  }
});

t.test('parseIysDate rejects bad shapes (H158) and impossible dates (H157) with GW_ERR_VALIDATION', async (t) => {
  const bad: [string, RegExp][] = [
    ['2025-06-05T10:00:00', /H158/],
    ['2025-06-05 10:00', /H158/],
    ['2025-6-5 10:00:00', /H158/],
    [' 2025-06-05 10:00:00', /H158/],
    ['2025-06-05 10:00:00+03:00', /H158/],
    ['', /H158/],
    ['2025-15-05 10:00:00', /H157/],
    ['2025-00-05 10:00:00', /H157/],
    ['2025-02-29 10:00:00', /H157/],
    ['2025-04-31 10:00:00', /H157/],
    ['2025-06-00 10:00:00', /H157/],
    ['2025-06-05 24:00:00', /H157/],
    ['2025-06-05 10:60:00', /H157/],
    ['2025-06-05 10:00:60', /H157/],
  ];
  for (const [s, re] of bad) {
    t.equal(isIysDate(s), false, `isIysDate(${JSON.stringify(s)})`);
    try {
      parseIysDate(s, 'list.3.consentDate');
      t.fail(`no error for ${s}`);
    } catch (err) {
      t.ok(isGatewayError(err));
      t.match(err, { code: 'GW_ERR_VALIDATION', statusCode: 400, field: 'list.3.consentDate', message: re }, s);
    }
  }
  t.equal(isIysDate('2025-06-05 10:00:00'), true);
  t.equal(isIysDate('2024-02-29 00:00:00'), true);
  t.equal(isIysDate(undefined as unknown as string), false, 'non-string from untyped JSON');
  t.throws(() => formatIysDate(new Date('nope')), { code: 'GW_ERR_VALIDATION' });
});

t.test('assertIstanbulOffset passes on this runtime and fails on a +02/DST runtime', async (t) => {
  t.doesNotThrow(() => assertIstanbulOffset());
  const oldTzdata = (d: Date) => {
    // A hand-made table that still has DST: +02 in winter, +03 in summer.
    const m = d.getUTCMonth();
    const off = m >= 3 && m <= 9 ? 3 : 2;
    return new Date(d.getTime() + off * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
  };
  t.throws(() => assertIstanbulOffset(oldTzdata), {
    code: 'GW_ERR_TIMEZONE_SELF_CHECK', statusCode: 500,
    message: /2025-01-15T12:00:00Z shows 2025-01-15 14:00:00, expected 2025-01-15 15:00:00/,
  });
  const unknownZone = () => { throw new RangeError('Invalid time zone specified: Europe/Istanbul'); };
  t.throws(() => assertIstanbulOffset(unknownZone), { code: 'GW_ERR_TIMEZONE_SELF_CHECK', cause: { name: 'RangeError' } });
});

t.test('identical output with TZ=UTC and TZ=America/New_York (child processes)', async (t) => {
  const instants = ['2024-12-31T21:30:00Z', '2025-03-09T07:30:00Z', '2025-11-02T06:30:00Z', '2026-03-12T22:30:00Z', '2015-12-01T12:00:00Z'];
  const code = `const m = await import(${JSON.stringify(new URL('../../src/domain/turkish-time.ts', import.meta.url).href)});
    m.assertIstanbulOffset();
    const xs = ${JSON.stringify(instants)}.map((s) => new Date(s));
    console.log(JSON.stringify({ tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
      out: xs.map((d) => [m.formatIysDate(d), m.istanbulDate(d), m.toIstanbulIso(d), m.parseIysDate(m.formatIysDate(d)).toISOString()]) }));`;
  const run = (TZ: string) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root, env: { ...process.env, TZ, LANG: 'tr_TR.UTF-8' }, encoding: 'utf8',
  })) as { tz: string; out: string[][] };
  const utc = run('UTC');
  const ny = run('America/New_York');
  t.equal(utc.tz, 'UTC');
  t.equal(ny.tz, 'America/New_York');
  t.same(ny.out, utc.out);
  t.same(utc.out[0], ['2025-01-01 00:30:00', '2025-01-01', '2025-01-01T00:30:00+03:00', '2024-12-31T21:30:00.000Z']);
  t.same(utc.out[3], ['2026-03-13 01:30:00', '2026-03-13', '2026-03-13T01:30:00+03:00', '2026-03-12T22:30:00.000Z']);
});
