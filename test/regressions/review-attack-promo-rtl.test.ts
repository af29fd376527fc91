// Review (attack): a right-to-left override (U+202E) makes a reader see `indirim` where the text
// stores `miridni`. The lint removed the override as a format character and read the stored order:
// an informational-declared message whose promotion is written backwards under an RLO passed.
// Now an RLO run is read in display order (UAX #9 X6) before the format characters are removed.
import t from 'tap';
import { applyPromotionalPolicy, lintPromotional } from '../../src/domain/promo-lint.ts';
import { readableParts } from '../../src/domain/html-text.ts';

const lint = (s: string) => lintPromotional(readableParts(s));
const RLO = '\u202E', PDF = '\u202C';

t.test('trigger: indirim and kampanya written backwards under an RLO', async (t) => {
  const text = `Bugün ${RLO}miridni${PDF} var, ${RLO}aynapmak${PDF} başladı`;
  const r = lint(text);
  t.equal(r.promotional, true);
  t.ok(r.hits.includes('indirim') && r.hits.includes('kampanya'), r.hits.join(','));
  const o = applyPromotionalPolicy('BILGILENDIRME' as never, readableParts(text), 'block');
  t.not(o.action, 'none', 'an informational declaration does not exempt it');
});

t.test('variants: no PDF (run to the end), ended by a PDI or a newline, Turkish letters, inside HTML as an entity', async (t) => {
  for (const s of [
    `Bugün ${RLO}miridni büyük aynapmak`,
    `Bugün \u2067${RLO}miridni\u2069 ve ${RLO}aynapmak\nYarın`,
    `Bu ${RLO}ıtasrıf${PDF} kaçırmayın, ${RLO}miridni %50${PDF}`,
    `<p>Bugün &#x202E;miridni&#x202C; ve &#8238;aynapmak&#8236;</p>`,
    `Bugün ${RLO}MİRİDNİ${PDF} ve ${RLO}AYNAPMAK${PDF}`,
  ]) {
    const r = lint(s);
    t.equal(r.promotional, true, JSON.stringify(s) + ' → ' + r.hits.join(','));
  }
});

t.test('a plain informational text with an RLO stays informational; text outside the run keeps its order', async (t) => {
  const r = lint(`Siparişiniz ${RLO}ahabrem${PDF} kargoya verildi`);
  t.equal(r.promotional, false, r.hits.join(','));
  const n = lint(`Sayın müşterimiz ${RLO}${PDF}indirim kampanya`);
  t.equal(n.promotional, true, 'an empty run does not disturb the rest');
});

// The same disguise in HTML: <bdo dir="rtl"> and a bidi-override rtl style display their text
// reversed; an <input value> is shown to the reader (in the field or on the button).
t.test('HTML: <bdo dir=rtl>, a bidi-override rtl style and an input value are read as displayed', async (t) => {
  for (const s of [
    '<p>Bugün <bdo dir="rtl">miridni</bdo> ve <bdo dir="rtl">aynapmak</bdo></p>',
    '<p>Bugün <BDO DIR=RTL>miridni aynapmak</BDO></p>',
    '<p>Bugün <span style="unicode-bidi:bidi-override;direction:rtl">miridni aynapmak</span></p>',
    '<p>Bugün <div style="direction: rtl; unicode-bidi: bidi-override">miridni</div> <span>kampanya</span></p>',
    '<p>Merhaba</p><input value="indirim kampanya">',
    '<form><input type="submit" value="Büyük indirim fırsatı"></form>',
  ]) {
    const r = lint(s);
    t.equal(r.promotional, true, s + ' → ' + r.hits.join(','));
  }
  // text after a closed override keeps its order; a hidden input is not shown; dir=rtl alone does not reverse Latin
  t.equal(lint('<p><bdo dir="rtl">ahabrem</bdo> indirim kampanya</p>').promotional, true);
  t.equal(lint('<p>Merhaba</p><input type="hidden" value="indirim kampanya">').promotional, false);
  t.equal(lint('<p dir="rtl">miridni aynapmak</p>').promotional, false, 'dir=rtl without an override keeps Latin letters in order');
});
