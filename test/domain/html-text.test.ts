/**
 * src/domain/html-text.ts: the visible text of an e-mail HTML part (issue 10 item 3), its hidden
 * text apart, character references decoded.
 */
import t from 'tap';
import { decodeEntities, htmlToText, looksLikeHtml, readableParts, readableStrings } from '../../src/domain/html-text.ts';

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

t.test('visible text: tags out, inline elements join, block elements separate', async (t) => {
  t.equal(squash(htmlToText('<p>Tüm ürünlerde <b>%30</b> indi<span>rim</span>!</p>').visible), 'Tüm ürünlerde %30 indirim!');
  t.equal(squash(htmlToText('<table><tr><td>kam</td><td>panya</td></tr></table>').visible), 'kam panya');
  t.equal(squash(htmlToText('satır<br>satır<br/>son').visible), 'satır satır son');
  t.equal(squash(htmlToText('a < b ve 3<4').visible), 'a < b ve 3<4', 'a < that starts no tag is text');
  t.equal(squash(htmlToText('<a href="https://x.example/kampanya?utm=indirim" title="kupon">Poliçe</a>').visible), 'Poliçe', 'attributes are not text');
  t.equal(squash(htmlToText('<img src="b.png" alt="%40 indirim kuponu"><p>x</p>').visible), '%40 indirim kuponu x', 'alt text is read');
  t.equal(squash(htmlToText('<p title="a>b">metin</p>').visible), 'metin', 'a > inside a quoted attribute');
});

t.test('never read: comments, script, style, head, template', async (t) => {
  const html = '<!DOCTYPE html><html><head><title>Kampanya</title><meta name="x" content="indirim"><style>.kampanya{}</style></head>'
    + '<body><!-- kampanya şablonu --><script>var indirim = "</p>";</script><template><p>kupon</p></template><p>Siparişiniz yolda.</p></body></html>';
  const r = htmlToText(html);
  t.equal(squash(r.visible), 'Siparişiniz yolda.');
  t.equal(r.hidden, '');
  t.equal(squash(htmlToText('önce<!-- kapanmayan yorum kampanya').visible), 'önce', 'an unclosed comment hides the rest');
  t.equal(squash(htmlToText('<STYLE type="text/css">p{}</STYLE>Metin').visible), 'Metin', 'case-insensitive');
});

t.test('hidden elements: apart, not in the visible text', async (t) => {
  const cases = [
    '<div style="display:none">%50 indirim</div><p>Hesap özeti</p>',
    '<div style="DISPLAY: none !important;">%50 indirim</div><p>Hesap özeti</p>',
    '<span style="visibility:hidden">%50 indirim</span><p>Hesap özeti</p>',
    '<div style="font-size:0;line-height:0">%50 indirim</div><p>Hesap özeti</p>',
    '<div style="max-height:0px;overflow:hidden;mso-hide:all">%50 indirim</div><p>Hesap özeti</p>',
    '<div style="opacity:0">%50 indirim</div><p>Hesap özeti</p>',
    '<div hidden>%50 indirim</div><p>Hesap özeti</p>',
    '<div style="display:none"><p>%50 <b>indirim</b></p></div><p>Hesap özeti</p>',
  ];
  for (const html of cases) {
    const r = htmlToText(html);
    t.equal(squash(r.visible), 'Hesap özeti', html);
    t.equal(squash(r.hidden), '%50 indirim', html);
  }
  t.equal(squash(htmlToText('<div style="font-size:12px">görünür</div>').visible), 'görünür', 'font-size 12px is visible');
  t.equal(squash(htmlToText('<div style="display:block">görünür</div>').visible), 'görünür');
});

t.test('character references', async (t) => {
  t.equal(decodeEntities('Sipari&#351;iniz &#x131; &ccedil;&ouml;&uuml;&scedil;&gbreve; &Idot; &imath;'), 'Siparişiniz ı çöüşğ İ ı');
  t.equal(decodeEntities('in&shy;di&zwnj;rim&nbsp;&amp;&lt;&gt;&quot;&apos;'), 'in\u00addi\u200crim\u00a0&<>"\'');
  t.equal(decodeEntities('K&acy;mp&acy;ny&acy; &Acy; &iukcy; &IEcy;'), 'Kаmpаnyа А і Е', 'Cyrillic letters by name');
  t.equal(decodeEntities('&alpha;&omicron;&Omicron;'), 'αοΟ', 'Greek letters by name');
  t.equal(decodeEntities('&kopf;&Ascr;&ifr;'), 'kAi', 'mathematical letters read as the letter');
  t.equal(decodeEntities('&copy &amp &nbspx &foo; &#0; &#x110000;'), '© & \u00a0x &foo; \ufffd \ufffd', 'legacy names without ;, unknown names, bad code points');
  t.equal(decodeEntities('&ZeroWidthSpace;&NoBreak;'), '\u200b\u2060');
});

t.test('readableParts, readableStrings, looksLikeHtml', async (t) => {
  t.same(readableParts('Kargonuz yolda'), ['Kargonuz yolda'], 'plain text as written');
  t.same(readableParts('a < b', false), ['a < b']);
  t.same(readableParts('<div style="display:none">gizli</div><p>açık</p>').map(squash), ['açık', 'gizli'], 'visible first, hidden apart');
  t.same(readableParts('<style>x</style>'), [], 'nothing visible, nothing hidden');
  t.same(readableStrings({ a: 'x', b: ['<b>y</b>', { c: 'z', n: 1 }] }).map(squash), ['x', 'y', 'z']);
  t.ok(looksLikeHtml('<p>x</p>'));
  t.ok(looksLikeHtml('x &amp; y'));
  t.notOk(looksLikeHtml('3 < 4 & 5'));
});

t.test('large and hostile input is linear', async (t) => {
  const big = '<div><span>metin</span> '.repeat(20_000) + '</div>'.repeat(20_000);
  const r = htmlToText(big);
  t.equal(r.visible.split('metin').length - 1, 20_000);
  const quotes = '<p a="' + 'x'.repeat(100_000);
  t.equal(squash(htmlToText(quotes).visible), '', 'an unterminated tag reads as nothing, no crash');
  t.equal(squash(htmlToText('<' + 'b'.repeat(50_000)).visible), '');
  const stray = '<div>'.repeat(20_000) + 'x' + '</span>'.repeat(20_000);
  t.equal(squash(htmlToText(stray).visible), 'x', 'stray end tags under deep nesting');
  t.equal(squash(htmlToText('<div style="display:none"><p>gizli</div><p>açık</p>').visible), 'açık', 'an end tag closes the elements left open inside it');
});
