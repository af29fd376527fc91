/**
 * The text a person reads in an HTML e-mail part, for the promotional lint (issue 10 item 3: a
 * promotion only in `text/html` passed as informational). Pure, one pass, no DOM.
 *
 * - Tags are removed; block elements (p, div, td, li, br, h1…) separate words, inline ones (b,
 *   span, a, font) do not: `<b>indi</b>rim` reads `indirim`.
 * - Character references are decoded: numeric (`&#305;`, `&#x131;`), the named references of
 *   text (HTML Living Standard §13.5 "Named character references": Latin-1, Turkish letters,
 *   punctuation, spaces and invisible characters such as `&shy;` `&zwnj;`), and the named letter
 *   families an attacker can spell a word with (`&acy;` Cyrillic, `&alpha;` Greek, `&aopf;`
 *   mathematical, `&ccedil;`-style accented letters). An unknown name stays as written.
 * - Never read: comments, `<script>`, `<style>`, `<head>` (title, meta), `<template>`.
 * - Hidden elements (`hidden` attribute; inline style `display:none`, `visibility:hidden`,
 *   `font-size:0`, `max-height:0`, `opacity:0`, `mso-hide:all`) are not visible text; they are
 *   returned apart (`hidden`): mail clients show such a "preheader" in the inbox preview line, so
 *   the lint still reads it, as a text of its own that never lowers the visible text's score.
 * - `alt` of images is visible text (shown when images are blocked).
 *
 * Why not a parser library: the gateway needs the visible text only, without a DOM (hot path);
 * adding a dependency now would also break every worktree sharing one node_modules this session.
 */

/** Visible and hidden text of an HTML document or fragment. */
export interface HtmlText { visible: string; hidden: string }

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr', 'keygen']);
const NEVER = new Set(['script', 'style', 'head', 'template', 'title', 'noframes']);
const RAW = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'noframes', 'noscript', 'iframe', 'noembed']);
const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'br', 'center', 'dd', 'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure',
  'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'html', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section',
  'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul', 'caption', 'option', 'button', 'img',
]);
const HIDING_STYLE = /(?:^|;|\s)(?:display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all|(?:font-size|max-height|max-width|line-height|height|width)\s*:\s*0(?:[a-z%]+)?\s*(?:!important)?\s*(?:;|$)|opacity\s*:\s*0(?:\.0+)?\s*(?:!important)?\s*(?:;|$))/i;

const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', shy: '\u00ad', zwnj: '\u200c', zwj: '\u200d', lrm: '\u200e', rlm: '\u200f',
  ZeroWidthSpace: '\u200b', NegativeVeryThinSpace: '\u200b', NegativeThinSpace: '\u200b', NegativeMediumSpace: '\u200b', NegativeThickSpace: '\u200b',
  NoBreak: '\u2060', InvisibleTimes: '\u2062', it: '\u2062', InvisibleComma: '\u2063', ic: '\u2063', ApplyFunction: '\u2061', af: '\u2061',
  ensp: '\u2002', emsp: '\u2003', emsp13: '\u2004', emsp14: '\u2005', thinsp: '\u2009', hairsp: '\u200a', numsp: '\u2007', puncsp: '\u2008',
  MediumSpace: '\u205f', NewLine: '\n', Tab: '\t', copy: '©', reg: '®', trade: '™', euro: '€', pound: '£', yen: '¥', cent: '¢', curren: '¤',
  percnt: '%', commat: '@', excl: '!', num: '#', dollar: '$', period: '.', comma: ',', colon: ':', semi: ';', quest: '?', sol: '/', bsol: '\\',
  lowbar: '_', ast: '*', plus: '+', equals: '=', verbar: '|', vert: '|', lpar: '(', rpar: ')', lsqb: '[', rsqb: ']', lcub: '{', rcub: '}',
  hyphen: '‐', dash: '‐', ndash: '–', mdash: '—', lsquo: '‘', rsquo: '’', sbquo: '‚', ldquo: '“', rdquo: '”', bdquo: '„', laquo: '«', raquo: '»',
  hellip: '…', bull: '•', middot: '·', centerdot: '·', sect: '§', para: '¶', deg: '°', times: '×', divide: '÷', plusmn: '±', micro: 'µ',
  frac12: '½', frac14: '¼', frac34: '¾', sup1: '¹', sup2: '²', sup3: '³', ordf: 'ª', ordm: 'º', iexcl: '¡', iquest: '¿', not: '¬',
  macr: '¯', acute: '´', cedil: '¸', uml: '¨', brvbar: '¦', tilde: '˜', circ: 'ˆ', szlig: 'ß', aelig: 'æ', AElig: 'Æ', oslash: 'ø', Oslash: 'Ø',
  eth: 'ð', ETH: 'Ð', thorn: 'þ', THORN: 'Þ', imath: 'ı', inodot: 'ı', Idot: 'İ', jmath: 'ȷ', check: '✓', star: '☆', starf: '★', hearts: '♥',
};
/** Latin-1 names a browser also decodes without the `;` (HTML Living Standard legacy list, text ones). */
const LEGACY = new Set(['amp', 'lt', 'gt', 'quot', 'nbsp', 'shy', 'copy', 'reg', 'ccedil', 'Ccedil', 'ouml', 'Ouml', 'uuml', 'Uuml', 'acirc', 'icirc', 'ucirc', 'Acirc', 'Icirc', 'Ucirc', 'szlig']);
const ACCENT = /^([a-zA-Z])(acute|grave|circ|uml|tilde|ring|cedil|caron|breve|macr|ogon|dot|dblac|strok|slash)$/;
const MARK: Record<string, string> = {
  acute: '\u0301', grave: '\u0300', circ: '\u0302', uml: '\u0308', tilde: '\u0303', ring: '\u030a', cedil: '\u0327', caron: '\u030c',
  breve: '\u0306', macr: '\u0304', ogon: '\u0328', dot: '\u0307', dblac: '\u030b', strok: '', slash: '',
};
const MATH = /^([a-zA-Z])(opf|scr|fr)$/;
const CYRILLIC: Record<string, string> = {
  acy: 'а', bcy: 'б', vcy: 'в', gcy: 'г', dcy: 'д', iecy: 'е', iocy: 'ё', zhcy: 'ж', zcy: 'з', icy: 'и', jcy: 'й', kcy: 'к', lcy: 'л',
  mcy: 'м', ncy: 'н', ocy: 'о', pcy: 'п', rcy: 'р', scy: 'с', tcy: 'т', ucy: 'у', fcy: 'ф', khcy: 'х', tscy: 'ц', chcy: 'ч', shcy: 'ш',
  shchcy: 'щ', hardcy: 'ъ', ycy: 'ы', softcy: 'ь', ecy: 'э', yucy: 'ю', yacy: 'я', iukcy: 'і', yicy: 'ї', jsercy: 'ј', dzcy: 'ѕ',
  djcy: 'ђ', gjcy: 'ѓ', jukcy: 'є', kjcy: 'ќ', ljcy: 'љ', njcy: 'њ', tshcy: 'ћ', ubrcy: 'ў', dzhcy: 'џ',
};
const GREEK: Record<string, string> = {
  alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ', epsilon: 'ε', epsiv: 'ϵ', zeta: 'ζ', eta: 'η', theta: 'θ', iota: 'ι', kappa: 'κ',
  lambda: 'λ', mu: 'μ', nu: 'ν', xi: 'ξ', omicron: 'ο', pi: 'π', rho: 'ρ', sigma: 'σ', sigmaf: 'ς', tau: 'τ', upsilon: 'υ', upsi: 'υ',
  phi: 'φ', chi: 'χ', psi: 'ψ', omega: 'ω',
};

/** One named reference (without `&` and `;`) → its text, or undefined when unknown. */
function named(name: string, withSemicolon: boolean): string | undefined {
  if (!withSemicolon && !LEGACY.has(name)) return undefined;
  const direct = NAMED[name];
  if (direct !== undefined) return direct;
  let m = ACCENT.exec(name);
  if (m) return (m[1]! + MARK[m[2]!]!).normalize('NFC');
  m = MATH.exec(name);
  if (m) return m[1]!;
  const lower = name.toLowerCase();
  const cap = name[0] !== lower[0];
  const letter = lower.endsWith('cy') ? CYRILLIC[lower] : GREEK[lower];
  if (letter === undefined) return undefined;
  return cap ? letter.toUpperCase() : letter;
}

const REF = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]{1,31}))(;?)/g;

/** Decodes HTML character references in `s` (numeric and the names above); others stay as written. */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(REF, (all, dec: string | undefined, hex: string | undefined, name: string | undefined, semi: string) => {
    if (name !== undefined) {
      const v = named(name, semi === ';');
      if (v !== undefined) return v;
      // `&nbspx`: a legacy name a browser reads as a prefix, the rest as text
      if (semi === '') for (let k = name.length - 1; k >= 2; k--) { const p = name.slice(0, k); if (LEGACY.has(p)) return named(p, false)! + name.slice(k); }
      return all;
    }
    const cp = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
    // NUL, surrogates and out-of-range read as U+FFFD (HTML Living Standard §13.2.5.80)
    if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
    return String.fromCodePoint(cp);
  });
}

const ATTR_HINT = /hidden|style|alt|dir|value/i;
/** A style that lays its text out right to left, reversed (CSS Writing Modes: `unicode-bidi: bidi-override` + `direction: rtl`). */
const RTL_OVERRIDE = /unicode-bidi\s*:\s*bidi-override/i;
const RTL_DIRECTION = /direction\s*:\s*rtl/i;
/** Cheap test before HIDING_STYLE: a style that hides names one of these (`&` for an encoded one). */
const STYLE_HINT = /none|hidden|mso-hide|:\s*0|&/i;
const ATTR = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;

/**
 * Visible text of `html` (and, apart, its hidden text), entities decoded. Never throws; a
 * malformed document reads as a browser would roughly read it (an unclosed comment hides the
 * rest; a `<` that starts no tag is text).
 */
export function htmlToText(html: string): HtmlText {
  const visible: string[] = [];
  const hidden: string[] = [];
  // open elements: name and whether it hides (NEVER: dropped; 'hidden': apart)
  const stack: Array<{ name: string; mode: 0 | 1 | 2; rtl?: boolean }> = [];
  const open = new Map<string, number>(); // open elements by name: a stray end tag costs no stack walk
  let never = 0; // open elements whose content is never read
  let hiding = 0; // open hidden elements
  // raw text chunks (references decoded once at the end: a tag always ends a reference)
  const emit = (text: string) => {
    if (text === '' || never > 0) return;
    (hiding > 0 ? hidden : visible).push(text);
  };
  const sep = () => { if (never === 0) (hiding > 0 ? hidden : visible).push(' '); };
  const n = html.length;
  let i = 0;
  let textStart = 0;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt < 0) break;
    const c = html.charCodeAt(lt + 1);
    if (html.startsWith('<!--', lt)) {
      emit(html.slice(textStart, lt));
      const end = html.indexOf('-->', lt + 4);
      i = textStart = end < 0 ? n : end + 3;
      continue;
    }
    if (c === 0x21 /* ! */ || c === 0x3f /* ? */) {
      emit(html.slice(textStart, lt));
      const end = html.indexOf('>', lt);
      i = textStart = end < 0 ? n : end + 1;
      continue;
    }
    const closing = c === 0x2f /* / */;
    const nameStart = closing ? lt + 2 : lt + 1;
    const first = html.charCodeAt(nameStart);
    if (!((first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a))) { i = lt + 1; continue; } // text '<'
    emit(html.slice(textStart, lt));
    let j = nameStart;
    for (; j < n; j++) {
      const ch = html.charCodeAt(j);
      if (ch === 0x3e || ch === 0x2f || ch === 0x20 || (ch >= 0x09 && ch <= 0x0d)) break;
    }
    const name = html.slice(nameStart, j).toLowerCase();
    // end of the tag: the first '>' outside quotes
    let k = j;
    let q = 0;
    for (; k < n; k++) {
      const ch = html.charCodeAt(k);
      if (q !== 0) { if (ch === q) q = 0; continue; }
      if (ch === 0x22 || ch === 0x27) {
        const p = html.charCodeAt(k - 1);
        if (p === 0x3d || p === 0x20 || (p >= 0x09 && p <= 0x0d)) q = ch;
        continue;
      }
      if (ch === 0x3e) break;
    }
    const attrs = html.slice(j, k);
    i = textStart = k < n ? k + 1 : n;
    if (closing) {
      if ((open.get(name) ?? 0) > 0) {
        for (;;) {
          const e = stack.pop()!;
          open.set(e.name, open.get(e.name)! - 1);
          if (e.rtl) emit('\u202C'); // end of a right-to-left override (promo-lint reads it in display order)
          if (e.mode === 2) never--; else if (e.mode === 1) hiding--;
          if (e.name === name) break;
        }
      }
      if (BLOCK.has(name)) sep();
      continue;
    }
    let mode: 0 | 1 | 2 = NEVER.has(name) ? 2 : 0;
    let alt = '';
    let dirRtl = false;
    let rtlOverride = false;
    if (mode === 0 && attrs.length > 1 && ATTR_HINT.test(attrs)) {
      for (const m of attrs.matchAll(ATTR)) {
        const an = m[1]!.toLowerCase();
        const av = m[2] ?? m[3] ?? m[4] ?? '';
        if (an === 'hidden' || (an === 'style' && STYLE_HINT.test(av) && HIDING_STYLE.test(decodeEntities(av)))) mode = 1;
        else if (an === 'alt' && name === 'img') alt = av;
        else if (an === 'value' && name === 'input' && !/type\s*=\s*["']?hidden/i.test(attrs)) alt = av; // shown in the field or on the button
        else if (an === 'dir' && av.trim().toLowerCase() === 'rtl') dirRtl = true;
        if (an === 'style') { const st = decodeEntities(av); if (RTL_OVERRIDE.test(st) && RTL_DIRECTION.test(st)) rtlOverride = true; }
      }
    }
    if (BLOCK.has(name)) sep();
    if (alt) { emit(alt); sep(); }
    const selfClosing = attrs.trimEnd().endsWith('/');
    if (RAW.has(name) && !selfClosing) {
      // raw text up to the matching end tag: script/style never read, others (textarea, noscript) as text
      const endRe = new RegExp(`</${name}[\\s/>]`, 'ig');
      endRe.lastIndex = i;
      const m = endRe.exec(html);
      const end = m ? m.index : n;
      if (mode !== 2 && !NEVER.has(name)) {
        if (mode === 1) hiding++;
        emit(html.slice(i, end).replace(/<[^>]*>/g, ' '));
        if (mode === 1) hiding--;
      }
      const close = m ? html.indexOf('>', end) : -1;
      i = textStart = close < 0 ? n : close + 1;
      continue;
    }
    if (VOID.has(name) || selfClosing) continue;
    // <bdo dir=rtl> and a bidi-override rtl style show their text reversed: marked as an RLO … PDF run
    const rtl = (name === 'bdo' && dirRtl) || rtlOverride;
    stack.push(rtl ? { name, mode, rtl } : { name, mode });
    if (rtl) emit('\u202E');
    open.set(name, (open.get(name) ?? 0) + 1);
    if (mode === 2) never++; else if (mode === 1) hiding++;
  }
  emit(html.slice(textStart));
  return { visible: decodeEntities(visible.join('')), hidden: decodeEntities(hidden.join('')) };
}

/** True when a string is worth reading as HTML (holds a tag, a comment or a character reference). */
export function looksLikeHtml(s: string): boolean {
  return /<[a-zA-Z!/?]|&(?:#|[a-zA-Z]{2,32};)/.test(s);
}

/**
 * The texts a reader sees in one string of a message: itself, or when it looks like HTML its
 * visible text and (apart, when any) its hidden text. Empty parts are left out.
 */
export function readableParts(s: string, html = looksLikeHtml(s)): string[] {
  if (!html) return [s];
  const { visible, hidden } = htmlToText(s);
  const out: string[] = [];
  if (visible.trim() !== '') out.push(visible);
  if (hidden.trim() !== '') out.push(hidden);
  return out;
}

/**
 * Every string in a JSON value (nested up to `maxDepth` levels), each read with `readableParts`:
 * template data, a generic `message` object. Keys are not text.
 */
export function readableStrings(v: unknown, maxDepth = 5): string[] {
  const out: string[] = [];
  const walk = (x: unknown, depth: number) => {
    if (typeof x === 'string') { out.push(...readableParts(x)); return; }
    if (depth >= maxDepth || x === null || typeof x !== 'object') return;
    for (const y of Array.isArray(x) ? x : Object.values(x)) walk(y, depth + 1);
  };
  walk(v, 0);
  return out;
}
