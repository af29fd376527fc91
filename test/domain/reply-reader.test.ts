/**
 * The reply reader (src/domain/reply-reader.ts) on the labelled corpus test/fixtures/reply-corpus.ts:
 * precision of `refusal` (predicted refusals that are refusals), recall of refusals (gold refusals
 * read as `refusal` or `review`: a review is not lost), strict recall (read as `refusal`), and
 * no stop request (gold refusal/review) read as `none`. Property tests of the folding: every
 * casing / diacritic / format-character / repeated-letter variant of each keyword reads alike.
 * Run: `npx tap test/domain/reply-reader.test.ts` (figures in the `# reply-reader:` comment).
 */
import t from 'tap';
import { DEFAULT_REFUSAL_KEYWORDS, compileReplyReader, foldReplyWords, withinOneEdit } from '../../src/domain/reply-reader.ts';
import { REPLY_BRANDS, REPLY_CORPUS } from '../fixtures/reply-corpus.ts';

const read = compileReplyReader({ brandNames: REPLY_BRANDS });

t.test('corpus: ≥ 120 replies, every label present', async (t) => {
  t.ok(REPLY_CORPUS.length >= 120, `${REPLY_CORPUS.length} replies`);
  for (const l of ['refusal', 'review', 'none'] as const) t.ok(REPLY_CORPUS.filter((c) => c.label === l).length >= 20, `${l} examples`);
});

t.test('precision and recall of refusal on the corpus', async (t) => {
  let tp = 0, fp = 0, recovered = 0, lostStop = 0;
  const refusals = REPLY_CORPUS.filter((c) => c.label === 'refusal').length;
  const misses: string[] = [];
  for (const c of REPLY_CORPUS) {
    const r = read(c.text);
    if (r.verdict === 'refusal') { if (c.label === 'refusal') tp++; else { fp++; misses.push(`FP ${JSON.stringify(c.text)} (${c.label})`); } }
    if (c.label === 'refusal' && r.verdict !== 'none') recovered++;
    if (c.label !== 'none' && r.verdict === 'none') { lostStop++; misses.push(`LOST ${JSON.stringify(c.text)} (${c.label})`); }
    if (c.label === 'refusal' && r.verdict === 'review') misses.push(`review ${JSON.stringify(c.text)} (refusal): ${r.reason}`);
    if (c.label === 'none' && r.verdict === 'review') misses.push(`review ${JSON.stringify(c.text)} (none): ${r.reason}`);
    if (c.brand && r.verdict === 'refusal') t.equal(r.brandHint, c.brand, `brand hint of ${JSON.stringify(c.text)}`);
  }
  const precision = tp / (tp + fp);
  const recall = recovered / refusals;
  const strict = tp / refusals;
  t.comment(`reply-reader: n=${REPLY_CORPUS.length} refusals=${refusals} tp=${tp} fp=${fp} precision=${precision.toFixed(3)} recall(refusal|review)=${recall.toFixed(3)} strict-recall=${strict.toFixed(3)} stop-requests-read-none=${lostStop}`);
  for (const m of misses) t.comment(m);
  t.ok(precision >= 0.98, `precision ${precision.toFixed(3)} ≥ 0.98`);
  t.ok(recall >= 0.95, `recall ${recall.toFixed(3)} ≥ 0.95`);
  t.equal(lostStop, 0, 'no stop request is read as none');
});

t.test('verdict shapes', async (t) => {
  t.same(read('RET XYZ MARKET'), { verdict: 'refusal', keyword: 'RET', brandHint: 'XYZ MARKET', brandHintKnown: true });
  t.same(read('RET KLMN'), { verdict: 'refusal', keyword: 'RET', brandHint: 'klmn', brandHintKnown: false });
  t.same(read('iptal ettiğim siparişim nerede?'), { verdict: 'review', keyword: 'IPTAL', reason: 'keyword-in-sentence' });
  t.same(read('beni listeden çıkarın'), { verdict: 'review', reason: 'free-text-stop' });
  t.same(read('stok durumu'), { verdict: 'none' });
  t.same(read(''), { verdict: 'none' });
  const custom = compileReplyReader({ keywords: ['ÇIK'] });
  t.equal(custom('çık').verdict, 'refusal', 'configured keyword');
  t.equal(custom('RET').verdict, 'review', 'RET not configured: free text only');
  t.throws(() => compileReplyReader({ keywords: ['two words'] }), /one word/);
});

/** Deterministic PRNG (mulberry32), so a failing variant is reproducible. */
function rng(seed: number): () => number {
  return () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let x = Math.imul(seed ^ (seed >>> 15), 1 | seed); x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x; return ((x ^ (x >>> 14)) >>> 0) / 4294967296; };
}
const FORMAT = ['\u200B', '\u200C', '\u200D', '\u00AD', '\u2060', '\uFEFF', '\u202A', '\u202C', '\u2066', '\u2069', '\u200E'];
const LOOK: Record<string, string[]> = { i: ['i', 'I', 'İ', 'ı', 'í', 'ì', 'ｉ'], e: ['e', 'E', 'Е', 'е', 'ｅ', 'é'], a: ['a', 'A', 'а', 'â', 'ａ'], o: ['o', 'O', 'о', 'ö', 'Ö', 'ｏ'], p: ['p', 'P', 'р', 'ｐ'], t: ['t', 'T', 'ｔ'], r: ['r', 'R', 'ｒ'], s: ['s', 'S', 'ş', 'Ş', 'ｓ'], d: ['d', 'D', 'ｄ'], u: ['u', 'U', 'ü', 'Ü', 'ｕ'], h: ['h', 'H', 'ｈ'], y: ['y', 'Y', 'ｙ'], l: ['l', 'L', 'ｌ'] };

t.test('property: every casing/diacritic/format/repeat variant of each keyword folds and reads alike', async (t) => {
  const next = rng(14);
  let n = 0;
  for (const k of DEFAULT_REFUSAL_KEYWORDS) {
    const base = foldReplyWords(k);
    for (let v = 0; v < 400; v++) {
      let s = '';
      for (const ch of k.toLowerCase()) {
        const alts = LOOK[ch] ?? [ch];
        s += alts[Math.floor(next() * alts.length)]!;
        if (next() < 0.25) s += s.at(-1)!; // a repeated letter
        if (next() < 0.3) s += FORMAT[Math.floor(next() * FORMAT.length)]!;
      }
      if (next() < 0.3) s = ` ${s}${['!', '.', ' 🙏', '!!', ' ', ''][Math.floor(next() * 6)]}`;
      const folded = foldReplyWords(s);
      if (folded.length !== 1 || folded[0] !== base[0]) { t.fail(`${JSON.stringify(s)} folds to ${JSON.stringify(folded)}, not ${base[0]}`); continue; }
      const r = read(s);
      if (r.verdict !== 'refusal' || r.keyword !== k) t.fail(`${JSON.stringify(s)} reads ${JSON.stringify(r)}`);
      n++;
    }
  }
  t.equal(n, DEFAULT_REFUSAL_KEYWORDS.length * 400, `${n} variants read as their keyword`);
});

t.test('withinOneEdit', async (t) => {
  t.ok(withinOneEdit('iptl', 'iptal'));
  t.ok(withinOneEdit('ipatl', 'iptal'));
  t.ok(withinOneEdit('iptak', 'iptal'));
  t.notOk(withinOneEdit('ipek', 'iptal'));
  t.notOk(withinOneEdit('stopaj', 'stop'));
});
