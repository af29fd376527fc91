/**
 * The promotional-content lint (src/domain/promo-lint.ts) on a labelled corpus of realistic
 * Turkish SMS texts and e-mail subjects written for this test: delivery, OTP, debt reminders,
 * appointments, campaigns, and mixed messages (a service notice with a promotional tail, which
 * is promotional). Labels are what a compliance reviewer would say: `true` = promotes a product.
 * Prints precision and recall and holds them to thresholds, on the original corpus and on the
 * disguised one (issue 10 item 3, C43: invisible characters, look-alike letters, spelled-apart
 * letters, digits for letters, HTML; with informational look-alikes). Both corpora are in
 * test/fixtures/promo-corpus.ts. Run: `npx tap test/domain/promo-lint.test.ts` (figures in the
 * `# promo-lint:` comment lines).
 */
import t from 'tap';
import { readableParts } from '../../src/domain/html-text.ts';
import { applyPromotionalPolicy, foldTurkish, letterView, lintEach, lintPromotional, readableText } from '../../src/domain/promo-lint.ts';
import { DISGUISED_CORPUS, ORIGINAL_CORPUS } from '../fixtures/promo-corpus.ts';

const CORPUS = ORIGINAL_CORPUS;

t.test('corpus is large enough and labelled both ways', async (t) => {
  t.ok(CORPUS.length >= 40, `${CORPUS.length} texts`);
  t.ok(CORPUS.filter((c) => c[0]).length >= 15, 'promotional examples');
  t.ok(CORPUS.filter((c) => !c[0]).length >= 15, 'informational examples');
});

t.test('precision and recall on the labelled corpus', async (t) => {
  let tp = 0, fp = 0, fn = 0, tn = 0;
  const misses: string[] = [];
  for (const [label, kind, text] of CORPUS) {
    const r = lintPromotional(text);
    if (r.promotional && label) tp++;
    else if (r.promotional && !label) { fp++; misses.push(`FP [${kind}] ${text} → ${r.hits.join(',')}`); }
    else if (!r.promotional && label) { fn++; misses.push(`FN [${kind}] ${text} → ${r.hits.join(',')}`); }
    else tn++;
  }
  const precision = tp / (tp + fp);
  const recall = tp / (tp + fn);
  t.comment(`promo-lint: n=${CORPUS.length} tp=${tp} fp=${fp} fn=${fn} tn=${tn} precision=${precision.toFixed(3)} recall=${recall.toFixed(3)}`);
  for (const m of misses) t.comment(m);
  t.ok(precision >= 0.9, `precision ${precision.toFixed(3)} ≥ 0.90`);
  t.ok(recall >= 0.9, `recall ${recall.toFixed(3)} ≥ 0.90`);
});

t.test('folding and single rules', async (t) => {
  t.equal(foldTurkish('İNDİRİM FIRSATI Çekiliş'), 'indirim firsati cekilis');
  t.same(lintPromotional('INDIRIM').hits, ['indirim'], 'ASCII spelling of İNDİRİM matches');
  t.equal(lintPromotional('').promotional, false, 'empty text');
  t.equal(lintPromotional(['Sipariş onaylandı', '%20 indirim']).promotional, true, 'parts of one message are read together');
  t.equal(lintPromotional('Faiz oranı %3,5 olarak güncellendi.').promotional, false, 'a % alone is a weak signal');
});

t.test('policy: block | treat-as-commercial | warn', async (t) => {
  const promo = ['Tüm ürünlerde %30 indirim!'];
  t.match(applyPromotionalPolicy('BILGILENDIRME', promo), { messageType: 'TICARI', action: 'treat-as-commercial' }, 'default');
  t.match(applyPromotionalPolicy('BILGILENDIRME', promo, 'block'), { messageType: 'BILGILENDIRME', action: 'block' });
  t.match(applyPromotionalPolicy('BILGILENDIRME', promo, 'warn'), { messageType: 'BILGILENDIRME', action: 'warn' });
  t.match(applyPromotionalPolicy('TICARI', promo, 'block'), { messageType: 'TICARI', action: 'none', lint: null }, 'TICARI is not linted');
  t.match(applyPromotionalPolicy('BILGILENDIRME', ['Kargonuz yola çıktı.'], 'block'), { messageType: 'BILGILENDIRME', action: 'none' });
});

t.test('several texts: each is linted on its own, so a service text cannot hide a campaign (review)', async (t) => {
  const { applyPromotionalPolicy } = await import('../../src/domain/promo-lint.ts');
  const cases: Array<[string[], boolean]> = [
    [['Doğrulama kodunuz 1234, kimseyle paylaşmayınız', 'Kampanya başladı!'], true],
    [['Siparişiniz kargoya verildi', 'Hediye çekiniz hazır'], true],
    [['Doğrulama kodunuz 1234', 'Siparişiniz kargoya verildi'], false],
    [['Kampanya başladı!'], true],
  ];
  for (const [texts, promotional] of cases) {
    const o = applyPromotionalPolicy('BILGILENDIRME', texts);
    t.equal(o.action === 'treat-as-commercial', promotional, texts.join(' | '));
    t.equal(o.messageType, promotional ? 'TICARI' : 'BILGILENDIRME');
  }
});

t.test('disguised corpus: precision and recall (issue 10 item 3, C43)', async (t) => {
  const promo = DISGUISED_CORPUS.filter((c) => c.promotional);
  t.ok(promo.length >= 60, `${promo.length} disguised promotional texts`);
  t.ok(DISGUISED_CORPUS.length - promo.length >= 20, `${DISGUISED_CORPUS.length - promo.length} informational look-alikes`);
  let tp = 0, fp = 0, fn = 0, tn = 0;
  const misses: string[] = [];
  const perKind = new Map<string, { n: number; right: number }>();
  for (const c of DISGUISED_CORPUS) {
    const parts = c.html ? readableParts(c.text, true) : [c.text];
    const r = lintEach(parts);
    const k = perKind.get(c.kind) ?? { n: 0, right: 0 };
    k.n++;
    if (r.promotional === c.promotional) k.right++;
    perKind.set(c.kind, k);
    if (r.promotional && c.promotional) tp++;
    else if (r.promotional) { fp++; misses.push(`FP [${c.kind}] ${JSON.stringify(c.text)} → ${r.hits.join(',')}`); }
    else if (c.promotional) { fn++; misses.push(`FN [${c.kind}] ${JSON.stringify(c.text)} → ${r.hits.join(',')}`); }
    else tn++;
  }
  const precision = tp / (tp + fp);
  const recall = tp / (tp + fn);
  t.comment(`promo-lint disguised: n=${DISGUISED_CORPUS.length} tp=${tp} fp=${fp} fn=${fn} tn=${tn} precision=${precision.toFixed(3)} recall=${recall.toFixed(3)}`);
  t.comment(`per kind (right/n): ${[...perKind].map(([k, v]) => `${k} ${v.right}/${v.n}`).join(', ')}`);
  for (const m of misses) t.comment(m);
  t.ok(precision >= 0.9, `precision ${precision.toFixed(3)} ≥ 0.90`);
  t.ok(recall >= 0.9, `recall ${recall.toFixed(3)} ≥ 0.90`);
  // every way of hiding a word is caught at least once, each look-alike kind mostly right
  for (const [kind, v] of perKind) t.ok(v.right / v.n >= 0.8, `${kind}: ${v.right}/${v.n}`);
});

t.test('readable text: what a person reads', async (t) => {
  const cases: Array<[string, string]> = [
    ['in\u200bdi\u00adrim', 'indirim'], // zero-width space, soft hyphen
    ['k\u0430mp\u0430ny\u0430', 'kampanya'], // Cyrillic а
    ['\u0456nd\u0456r\u0456m', 'indirim'], // Cyrillic і
    ['h\u0435diy\u0435', 'hediye'], // Cyrillic е
    ['kup\u043en', 'kupon'], // Cyrillic о
    ['\u039a\u0391\u039c\u03a1\u0391\u039d\u03a5\u0391', 'kampanya'], // Greek capitals
    ['\uff2b\uff21\uff2d\uff30\uff21\uff2e\uff39\uff21', 'kampanya'], // fullwidth (NFKC)
    ['k\u0336a\u0336m\u0336', 'kam'], // combining long stroke
    ['İNDİRİM FIRSATI Çekiliş', 'indirim firsati cekilis'], // plain Turkish: the foldTurkish fast path
    ['ﬁyat', 'fiyat'], // ligature (NFKC)
    ['c\u0327ekilis\u0327', 'cekilis'], // decomposed Turkish letters
  ];
  for (const [input, want] of cases) t.equal(readableText(input), want, JSON.stringify(input));
  t.equal(readableText('Sipariş'), foldTurkish('Sipariş'), 'fast path equals foldTurkish');
  t.equal(letterView('i n d i r i m'), 'indirim');
  t.equal(letterView('k.a.m.p.a.n.y.a'), 'kampanya');
  t.equal(letterView('kam pan ya'), 'kampanya');
  t.equal(letterView('u c r e t s i z  k a r g o'), 'ucretsiz kargo', 'a wide gap stays a word break');
  t.equal(letterView('1nd1r1m k4mp4ny4 h3d1y3 k@mp@ny@'), 'indirim kampanya hediye kampanya');
  t.equal(letterView('kacirmayin!'), 'kacirmayin!', 'a trailing ! is punctuation');
  t.equal(letterView('%50 indirim, 1 alana 1, 250 tl'), '%50 indirim, 1 alana 1, 250 tl', 'numbers without letters stay numbers');
  t.equal(letterView('siparisiniz kargoya verildi.'), 'siparisiniz kargoya verildi.', 'nothing to read differently: the same string');
});

t.test('a disguise never lowers a score, and never invents a word across words', async (t) => {
  // the service words only count as written: a disguised OTP word does not cancel a campaign
  t.equal(lintPromotional('D0GRULAMA K0DU: %50 indirim').promotional, true);
  for (const text of ['He diye bir cevap yeterli.', 'Uygulamayı indir, imza adımlarını tamamla.', 'Bu da mı kampanya değil?'.replace('kampanya', 'kamp'), 'kam panya']) {
    t.equal(lintPromotional(text).promotional, false, text);
  }
});

t.test('unseen text (a provider-side template) is not exempt', async (t) => {
  const o = applyPromotionalPolicy('BILGILENDIRME', ['Siparişiniz kargoya verildi'], 'treat-as-commercial', 'template_id');
  t.match(o, { messageType: 'TICARI', action: 'treat-as-commercial' });
  t.same(o.lint?.hits.slice(0, 2), ['unseen-text', 'template_id']);
  t.match(applyPromotionalPolicy('BILGILENDIRME', [], 'block', 'template_id'), { action: 'block' });
  t.match(applyPromotionalPolicy('BILGILENDIRME', [], 'warn', 'template_id'), { action: 'warn', messageType: 'BILGILENDIRME' });
  t.match(applyPromotionalPolicy('TICARI', [], 'block', 'template_id'), { action: 'none', messageType: 'TICARI' }, 'TICARI needs consent anyway');
});

t.test('confusables table: each look-alike reads as one Latin letter', async (t) => {
  const { CONFUSABLE_TO_LATIN, foldConfusables } = await import('../../src/domain/confusables.ts');
  t.ok(CONFUSABLE_TO_LATIN.size >= 100, `${CONFUSABLE_TO_LATIN.size} entries`);
  for (const [cp, latin] of CONFUSABLE_TO_LATIN) {
    const ch = String.fromCodePoint(cp);
    if (!/^\p{Script=Latin}$/u.test(latin) || ch === latin || /^[\x00-\x7f]$/.test(ch)) t.fail(`U+${cp.toString(16)} ${ch} → ${latin}`);
  }
  t.equal(foldConfusables('Kargonuz yolda'), 'Kargonuz yolda', 'Latin text unchanged (same string)');
  t.equal(foldConfusables('\u041a\u0410\u041c\u0420\u0410\u041d\u0423\u0410'), 'KAMPAHYA', 'Cyrillic capitals: Н reads H, as confusables.txt says');
  t.equal(foldConfusables('k\u0430mp\u0430ny\u0430 \u0456nd\u0456r\u0456m h\u0435d\u0456y\u0435 kup\u043en \u04abek\u0456l\u0456\u015f'), 'kampanya indirim hediye kupon çekiliş');
});
