/**
 * Micro-benchmark of recipient normalization and Turkish-time formatting (hot path; target
 * ≈500,000 recipients/s in batches). Run: `node --import tsx bench/normalize.bench.ts`.
 * Prints ops/s per scenario; the `baseline` row (a plain regex test over the same inputs) is
 * measured in the same run so results compare as ratios across machines (STYLE.md habit 9).
 */
import { normalizeEmail, normalizePhone, normalizeRecipient } from '../src/domain/recipient.ts';
import { formatIysDate } from '../src/domain/turkish-time.ts';

const N = 4096;
function make<T>(f: (i: number) => T): T[] {
  return Array.from({ length: N }, (_, i) => f(i));
}
const digits = (i: number, n: number) => String((i * 7919 + 12345) % 10 ** n).padStart(n, '0');

const canonicalPhones = make((i) => `+905${digits(i, 9)}`);
const messyPhones = make((i) => {
  const d = digits(i, 9);
  const forms = [`0 (5${d.slice(0, 2)}) ${d.slice(2, 5)}-${d.slice(5, 7)}-${d.slice(7)}`, `905${d}`, `5${d}`, `0090 5${d}`, ` +90 5${d}\t`];
  return forms[i % forms.length]!;
});
const foreignPhones = make((i) => `+44 7911 ${digits(i, 6)}`);
const canonicalEmails = make((i) => `user.${i}+tag@example${i % 50}.com.tr`);
const messyEmails = make((i) => [`User.${i}@Example.COM`, ` user${i}@ÖRNEK.com.tr `, `İLETİŞİM${i}@EXAMPLE.COM`][i % 3]!);
const dates = make((i) => new Date(Date.UTC(2026, 0, 1) + i * 97_531_000));

let sink = 0;
function bench(name: string, inputs: readonly unknown[], fn: (x: never) => unknown, ms = 600): void {
  for (let i = 0; i < 20_000; i++) fn(inputs[i % N] as never); // warm-up
  let ops = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1_000_000n;
  while (process.hrtime.bigint() - start < budget) {
    for (let i = 0; i < N; i++) if (fn(inputs[i] as never)) sink++;
    ops += N;
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${name.padEnd(36)} ${Math.round(ops / s).toLocaleString('en-US').padStart(14)} ops/s`);
}

const re = /^\+905\d{9}$/;
bench('baseline: regex test', canonicalPhones, (x: string) => re.test(x));
bench('normalizePhone canonical +905…', canonicalPhones, (x: string) => normalizePhone(x).ok);
bench('normalizePhone messy TR spellings', messyPhones, (x: string) => normalizePhone(x).ok);
bench('normalizePhone foreign (libphonenumber)', foreignPhones, (x: string) => normalizePhone(x).ok);
bench('normalizeEmail canonical', canonicalEmails, (x: string) => normalizeEmail(x).ok);
bench('normalizeEmail messy (case, IDNA, TR)', messyEmails, (x: string) => normalizeEmail(x).ok);
bench('normalizeRecipient mixed canonical', [...canonicalPhones.slice(0, N / 2), ...canonicalEmails.slice(0, N / 2)], (x: string) => normalizeRecipient(x).ok);
bench('formatIysDate', dates, (d: Date) => formatIysDate(d).length);
if (sink < 0) console.log(sink);
