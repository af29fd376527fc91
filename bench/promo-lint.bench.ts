/**
 * In-process micro-benchmark of the promotional lint on the proxy hot path (issue 10 item 3): the
 * lint as it is (src/domain/promo-lint.ts: readable text, letter view, spread words) against the
 * lint as it was before (bench/lib/promo-lint-before.ts, unchanged copy), measured in the same
 * run on the same texts, as CPU ns per message and as a ratio.
 *
 * Workloads: the original labelled corpus (56 SMS texts and subjects: the common case), the
 * disguised corpus (104 texts with invisible characters, look-alikes, HTML parts), and one
 * ~30 KB HTML newsletter (an e-mail's text/html part: htmlToText + lint, against the earlier
 * webhook reading — tags stripped by a regex — + the earlier lint). Also prints each lint's
 * precision and recall on both corpora, so cost and benefit sit side by side.
 *
 * Run: `node --import tsx bench/promo-lint.bench.ts [--ms 600] [--rounds 3]` (≈ 15 s). Results: bench/results/promo-lint.json.
 */
import os from 'node:os';
import { lintEach as lintBefore } from './lib/promo-lint-before.ts';
import { htmlToText, readableParts } from '../src/domain/html-text.ts';
import { lintEach } from '../src/domain/promo-lint.ts';
import { DISGUISED_CORPUS, ORIGINAL_CORPUS } from '../test/fixtures/promo-corpus.ts';
import { writeResult } from './lib/harness.ts';

const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const MS = arg('ms', 600);
const cpuNs = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
let sink = 0;

/** CPU ns per call of `fn` over `inputs`, after a warm-up, for ~MS ms of this process's CPU. */
function measure<T>(inputs: readonly T[], fn: (x: T) => { promotional: boolean }): number {
  for (let r = 0; r < 200; r++) for (const x of inputs) if (fn(x).promotional) sink++;
  let ops = 0;
  const t0 = cpuNs();
  while (cpuNs() - t0 < MS * 1e6) { for (const x of inputs) if (fn(x).promotional) sink++; ops += inputs.length; }
  return (cpuNs() - t0) / ops;
}

function quality<T extends { label: boolean }>(items: readonly T[], fn: (x: T) => { promotional: boolean }) {
  let tp = 0, fp = 0, fn_ = 0;
  for (const x of items) { const p = fn(x).promotional; if (p && x.label) tp++; else if (p) fp++; else if (x.label) fn_++; }
  return { precision: +(tp / (tp + fp || 1)).toFixed(3), recall: +(tp / (tp + fn_)).toFixed(3) };
}

const original = ORIGINAL_CORPUS.map(([label, , text]) => ({ label, text }));
const disguised = DISGUISED_CORPUS.map((c) => ({ label: c.promotional, text: c.text, html: c.html === true }));
// what each lint is given: the new one the readable parts; the old one what the old adapters gave
// (SendGrid text/html was not read at all; the webhook stripped tags with a regex)
const newParts = (x: { text: string; html?: boolean }) => (x.html ? readableParts(x.text, true) : [x.text]);
const oldParts = (x: { text: string; html?: boolean }) => (x.html ? [x.text.replace(/<[^>]*>/g, ' ')] : [x.text]);

// a ~30 KB newsletter-style HTML part: head/style, a hidden preheader, tables of products
const row = (i: number) => `<tr><td style="padding:8px"><img src="https://cdn.example/p/${i}.jpg" alt="Ürün ${i}" width="120"></td><td style="font-family:Arial;font-size:14px">Ürün ${i} &ndash; kargonuz hakkında bilgi, sipariş no ${48213 + i}. <a href="https://shop.example/p/${i}?utm_source=mail">Detay</a></td></tr>`;
const newsletter = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Bülten</title><style>body{margin:0}.btn{color:#fff;background:#e30}td{vertical-align:top}</style></head><body>'
  + '<div style="display:none;max-height:0;overflow:hidden">Siparişinizle ilgili bilgilendirme</div><!-- header --><table width="600" cellpadding="0">'
  + Array.from({ length: 110 }, (_, i) => row(i)).join('') + '</table><p style="font-size:11px;color:#999">Bu e-posta bilgilendirme amaçlıdır. &copy; 2026</p></body></html>';

const results: Record<string, unknown> = { textsOriginal: original.length, textsDisguised: disguised.length, newsletterBytes: Buffer.byteLength(newsletter) };
const ROUNDS = arg('rounds', 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Before and after measured alternately ROUNDS times (the machine is shared): the medians. */
function pair<T>(inputs: readonly T[], before: (x: T) => { promotional: boolean }, after: (x: T) => { promotional: boolean }): [number, number] {
  const b: number[] = [];
  const a: number[] = [];
  for (let r = 0; r < ROUNDS; r++) { b.push(measure(inputs, before)); a.push(measure(inputs, after)); }
  return [median(b), median(a)];
}
const line = (name: string, [before, after]: [number, number]) => {
  results[name] = { beforeNs: Math.round(before), afterNs: Math.round(after), ratio: +(after / before).toFixed(2) };
  console.log(`${name.padEnd(40)} before ${before.toFixed(0).padStart(8)} ns   after ${after.toFixed(0).padStart(8)} ns   after/before ${(after / before).toFixed(2)}×`);
};

console.log(`promo-lint bench (CPU ns per message, median of ${ROUNDS} alternating rounds of ${MS} ms, Node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)})`);
results.loadavg1 = os.loadavg()[0];
line('original corpus (SMS / subjects)', pair(original, (x) => lintBefore([x.text]), (x) => lintEach([x.text])));
line('disguised corpus', pair(disguised, (x) => lintBefore(oldParts(x)), (x) => lintEach(newParts(x))));
line(`HTML newsletter (${Math.round(Buffer.byteLength(newsletter) / 1024)} KB)`, pair([newsletter], (h) => lintBefore([h.replace(/<[^>]*>/g, ' ')]), (h) => lintEach(readableParts(h, true))));

const htmlOnly = measure([newsletter], (h) => ({ promotional: htmlToText(h).visible.length < 0 }));
results.htmlToTextNs = Math.round(htmlOnly);
console.log(`  of which htmlToText alone: ${htmlOnly.toFixed(0)} ns`);

const q = {
  original: { before: quality(original, (x) => lintBefore([x.text])), after: quality(original, (x) => lintEach([x.text])) },
  disguised: { before: quality(disguised, (x) => lintBefore(oldParts(x))), after: quality(disguised, (x) => lintEach(newParts(x))) },
};
results.quality = q;
console.log('precision / recall        before                 after');
for (const [k, v] of Object.entries(q)) console.log(`${k.padEnd(24)} ${v.before.precision.toFixed(3)} / ${v.before.recall.toFixed(3)}          ${v.after.precision.toFixed(3)} / ${v.after.recall.toFixed(3)}`);
console.log(`results: ${writeResult('promo-lint', results)} (sink ${sink})`);
