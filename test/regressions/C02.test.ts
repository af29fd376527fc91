/**
 * C02 (field-cases.md): a helper mixing local and UTC fields put consentDate 3 h early and, in the
 * first hours of 1 January TRT, almost a year in the future (H162). Format in Europe/Istanbul.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatIysDate } from '../../src/domain/turkish-time.ts';

t.test('clock 2025-01-01T01:30:00+03:00 → "2025-01-01 01:30:00"', async (t) => {
  t.equal(formatIysDate(new Date('2025-01-01T01:30:00+03:00')), '2025-01-01 01:30:00');
  t.not(formatIysDate(new Date('2025-01-01T01:30:00+03:00')), '2025-12-31 22:30:00');
});

t.test('unit instants 2024-12-31T21:30Z and 2025-06-10T11:00Z', async (t) => {
  t.equal(formatIysDate(new Date('2024-12-31T21:30:00Z')), '2025-01-01 00:30:00');
  t.equal(formatIysDate(new Date('2025-06-10T11:00:00Z')), '2025-06-10 14:00:00');
});

t.test('identical on a server running in UTC', async (t) => {
  const code = `const m = await import(${JSON.stringify(new URL('../../src/domain/turkish-time.ts', import.meta.url).href)});
    console.log(JSON.stringify(['2025-01-01T01:30:00+03:00', '2024-12-31T21:30:00Z', '2025-06-10T11:00:00Z'].map((s) => m.formatIysDate(new Date(s)))));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)), env: { ...process.env, TZ: 'UTC' }, encoding: 'utf8',
  });
  t.same(JSON.parse(out), ['2025-01-01 01:30:00', '2025-01-01 00:30:00', '2025-06-10 14:00:00']);
});
