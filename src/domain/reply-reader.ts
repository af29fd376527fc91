/**
 * Reading an SMS reply for a refusal (issue 14): pure, no I/O. A person answers a commercial SMS
 * with `RET`, `İptal`, `STOP`, `RET MARKA` (İYS's own 3338 shape), or writes `beni listeden
 * çıkarın`. Law 6563 / the regulation art. 9 make a refusal the company received itself binding
 * at once; a reply that only *may* be one must never be dropped, so the reader has three answers:
 * - `refusal`: a keyword among the leading words, followed by nothing but a brand short name or
 *   politeness / "stop sending" words (`RET`, `iptal lütfen`, `STOP ABC`, `Ret ediyorum`);
 * - `review`: a person must look (a stop request in free text without a keyword, a keyword in a
 *   longer sentence, a keyword followed by a word the reader does not know);
 * - `none`: nothing that asks to stop (order questions, OTP echoes, thanks, emoji, empty).
 *
 * Matching runs on folded text: `readableText` of promo-lint.ts (NFKC, format and default-ignorable
 * characters removed — zero-width, soft hyphen, bidi controls —, Cyrillic/Greek look-alikes folded
 * through confusables.ts, Turkish lower case, diacritics dropped, ı → i), then everything that is
 * not a letter or digit becomes a space (punctuation, emoji) and each word's repeated letters are
 * squeezed (`rettt` → `ret`, `iptaaal` → `iptal`). Keywords also match at one edit (Damerau,
 * adjacent swap counted once) when they have 4 letters or more (`iptl`, `ipatl`, `hayr`); 3-letter
 * keywords (RET, DUR) only exactly, so `rte` or `dur`-prefixed words (`durum`) never read as one.
 * Measured on test/fixtures/reply-corpus.ts (precision and recall printed by
 * test/domain/reply-reader.test.ts); cost in bench/reply-reader.bench.ts.
 */
import { readableText } from './promo-lint.ts';

/** The reader's verdict on one reply. */
export interface ReplyReading {
  verdict: 'refusal' | 'review' | 'none';
  /** The configured keyword matched (upper case as configured), when one was. */
  keyword?: string;
  /** The brand short name named after the keyword, as configured (matched), or as written (folded, `brandHintKnown: false`). */
  brandHint?: string;
  /** True when `brandHint` is one of the configured brand short names. */
  brandHintKnown?: boolean;
  /** Why `review`: a short label (vocabulary, never the text). */
  reason?: 'free-text-stop' | 'keyword-in-sentence' | 'keyword-unknown-word' | 'question';
}

/** What the reader is configured with. */
export interface ReplyReaderOptions {
  /** Refusal keywords (config `inbound.keywords`); default `DEFAULT_REFUSAL_KEYWORDS`. Folded like the text. */
  keywords?: readonly string[];
  /** Brand short names a reply may name after the keyword (`RET MARKA`), e.g. `["ABC", "XYZ MARKET"]`. */
  brandNames?: readonly string[];
}

/** Default keywords: İYS's `RET`, and what Turkish senders print in "… yazıp … gönderin" lines. */
export const DEFAULT_REFUSAL_KEYWORDS = ['RET', 'IPTAL', 'STOP', 'DUR', 'HAYIR'] as const;

const REPEAT = /([a-z])\1+/g;

/**
 * The folded words of a reply: readableText, non-letters to spaces, repeated letters squeezed.
 * Exported for the property tests (every variant of a keyword folds to the same word).
 */
export function foldReplyWords(text: string): string[] {
  // ASCII text (most replies) is folded in one pass: A–Z lower-cased (Turkish I → ı → i reads i
  // too), letters and digits kept, repeats squeezed, everything else a word break; other text
  // goes through readableText first, then the same pass (its output is lower case)
  let ascii = true;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) { ascii = false; break; }
  const t = ascii ? text : readableText(text);
  const words: string[] = [];
  let w = '';
  let prev = -1;
  for (let i = 0; i < t.length; i++) {
    let c = t.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
      if (c !== prev || c < 97) w += String.fromCharCode(c);
      prev = c;
    } else {
      if (w !== '') { words.push(w); w = ''; }
      prev = -1;
    }
  }
  if (w !== '') words.push(w);
  return words;
}

/**
 * Words that may stand beside a keyword without changing what it asks: politeness, "stop
 * sending", "me/my number", channel words, thanks; Turkish folded (ç→c, ı→i…) and squeezed
 * (`tesekkurler` → `tesekurler`), plus a few English ones for mixed replies.
 */
const FILLER = squeezedSet([
  'lutfen', 'lutf', 'ltfn', 'rica', 'ederim', 'ediyorum', 'ediyoruz', 'edin', 'ediniz', 'et', 'etmek', 'etsin', 'edilsin', 'istiyorum', 'istiyoruz',
  'yap', 'yapin', 'yapiniz', 'yapilsin', 'tamam', 'ok', 'okey', 'please', 'pls', 'plz', 'merhaba', 'selam', 'slm', 'iyi', 'gunler', 'aksamlar',
  'sms', 'mesaj', 'mesajlar', 'mesajlari', 'mesajlarinizi', 'mesajinizi', 'ileti', 'iletiler', 'bildirim', 'bildirimler', 'reklam', 'reklamlar',
  'kampanya', 'kampanyalar', 'tum', 'hepsi', 'hepsini', 'tesekurler', 'tesekur', 'tsk', 'tsklr', 'sagolun', 'sag', 'olun', 'artik', 'bana', 'beni',
  'benim', 'numarami', 'numaram', 'liste', 'listeden', 'sil', 'silin', 'siliniz', 'cikar', 'cikarin', 'cikariniz', 'istemiyorum', 'gonderme',
  'gondermeyin', 'gondermeyiniz', 'atma', 'atmayin', 'atmayiniz', 'bir', 'daha', 'hic', 'abonelik', 'uyelik', 'now', 'me', 'all', 'thanks', 'thank', 'you',
  'sending', 'send', 'msg', 'messages', 'de', 'da', 've', 'ile', 'icin', 'kodu', 'kod', 'yaz', 'yazdim', 'yaziyorum', 'gonderiyorum', 'hemen', 'acil',
]);
function squeezedSet(words: readonly string[]): Set<string> { return new Set(words.map((w) => w.replace(REPEAT, '$1'))); }

/** Words of another sense: a keyword beside them is a question about an order, a payment… (→ review, never refusal). */
const OTHER_SENSE = new RegExp(`^(${['siparis', 'kargo', 'odeme', 'iade', 'fatura', 'rezervasyon', 'randevu', 'urun', 'paket', 'kart', 'hesap', 'para', 'ucret',
  'tutar', 'nerede', 'neden', 'nasil', 'ne', 'niye', 'zaman', 'kac', 'mi', 'mu', 'misiniz', 'musunuz', 'ettigim', 'ettim', 'edildi', 'edilen', 'edilmis',
  'edecek', 'edemedim', 'edemiyorum', 'olan', 'oldu', 'olmus', 'durum', 'stok', 'bilgi', 'teslim', 'talep', 'islem'].map((w) => w.replace(REPEAT, '$1')).join('|')})`);

/** Real words one edit away from a keyword: never read as its typo (`stok` is not `stop`). */
const NOT_TYPO = new Set(['stok', 'step', 'shop', 'stor', 'atop', 'hayi', 'iptali']);

/** Free-text stop requests (folded, squeezed words joined by single spaces). */
const FREE_TEXT_STOP = new RegExp([
  'listeden (cikar|sil|cik)', 'listenizden', 'mesaj (at|gonder)ma', 'mesaj (gonder|at)meyin', 'sms (at|gonder)ma', 'sms (gonder|at)meyin',
  'mesaj istemiyorum', 'sms istemiyorum', 'istemiyorum', 'rahatsiz etme', 'rahatsiz ediyorsunuz', 'engel', 'abonelikten cik', 'aboneligimi',
  'numarami sil', 'numarami kaldir', 'beni sil', 'beni cikar', 'kaldirin', 'bir daha (mesaj|sms)', 'unsubscribe', 'opt ?out', 'stop (sending|texting)',
  'do not (text|send|message)', 'dont (text|send|message)', 'kesin su', 'yeter artik', 'ret(?![a-z])', 'iptal', 'stop(?![a-z])',
].map((p) => `(?:^| )${p}`).join('|'));

/** A compiled reader (keywords and brand names folded once). */
export type ReplyReader = (text: string) => ReplyReading;

interface Keyword { word: string; label: string; fuzzy: boolean }

/**
 * Builds a reader for `opts` (keywords, brand short names).
 * @returns a function from reply text (any string; NUL and control characters are separators) to its reading
 * @throws Error when a keyword folds to nothing or to several words
 */
export function compileReplyReader(opts: ReplyReaderOptions = {}): ReplyReader {
  const keywords: Keyword[] = (opts.keywords ?? DEFAULT_REFUSAL_KEYWORDS).map((k) => {
    const w = foldReplyWords(k);
    if (w.length !== 1) throw new Error(`refusal keyword ${JSON.stringify(k)} must fold to one word`);
    return { word: w[0]!, label: k.toLocaleUpperCase('tr'), fuzzy: w[0]!.length >= 4 };
  });
  const exact = new Map(keywords.map((k) => [k.word, k]));
  const fuzzy = keywords.filter((k) => k.fuzzy);
  // brand short names: folded words; one name may be several words ("XYZ MARKET")
  const brands = (opts.brandNames ?? []).map((n) => ({ name: n, words: foldReplyWords(n) })).filter((b) => b.words.length > 0)
    .sort((a, b) => b.words.length - a.words.length);

  const keywordOf = (w: string): Keyword | undefined => {
    const k = exact.get(w);
    if (k || w.length < 3 || NOT_TYPO.has(w)) return k;
    for (const f of fuzzy) if (withinOneEdit(w, f.word)) return f;
    return undefined;
  };
  /** Length in words of the brand name starting at `i`, or 0. */
  const brandAt = (words: readonly string[], i: number): { len: number; name: string } | null => {
    for (const b of brands) {
      if (i + b.words.length > words.length) continue;
      let ok = true;
      for (let j = 0; j < b.words.length && ok; j++) ok = words[i + j] === b.words[j];
      if (ok) return { len: b.words.length, name: b.name };
    }
    return null;
  };

  return (text: string): ReplyReading => {
    let words = foldReplyWords(text);
    if (words.length === 0) return { verdict: 'none' };
    // letters spelled apart (`r e t`, `S.T.O.P`) read as the word they spell
    if (words.length > 1 && words.every((w) => w.length === 1)) words = [words.join('').replace(REPEAT, '$1')];
    const question = text.includes('?');
    // the keyword among the leading words: only fillers or a brand name before it
    let at = -1;
    let kw: Keyword | undefined;
    let brandHint: string | undefined;
    for (let i = 0; i < words.length && i < 4; i++) {
      kw = keywordOf(words[i]!);
      if (kw) { at = i; break; }
      const b = brandAt(words, i);
      if (b) { brandHint = b.name; i += b.len - 1; continue; }
      if (!FILLER.has(words[i]!)) break;
    }
    if (!kw) {
      const joined = words.join(' ');
      if (FREE_TEXT_STOP.test(joined)) return { verdict: 'review', reason: 'free-text-stop' };
      return { verdict: 'none' };
    }
    let unknown: string | null = null;
    let unknownCount = 0;
    for (let i = at + 1; i < words.length; i++) {
      const w = words[i]!;
      const b = brandAt(words, i);
      if (b) { brandHint ??= b.name; i += b.len - 1; continue; }
      if (keywordOf(w) || FILLER.has(w)) continue;
      if (OTHER_SENSE.test(w)) return { verdict: 'review', keyword: kw.label, reason: 'keyword-in-sentence' };
      unknownCount++;
      unknown ??= w;
    }
    if (question) return { verdict: 'review', keyword: kw.label, reason: 'question', ...(brandHint ? { brandHint, brandHintKnown: true } : {}) };
    if (unknownCount === 0) return { verdict: 'refusal', keyword: kw.label, ...(brandHint ? { brandHint, brandHintKnown: true } : {}) };
    // `RET XYZ` (İYS 3338 shape) with a brand name we do not know: a refusal whose brand is unknown
    // (the caller refuses every brand of the number: fail toward suppression)
    if (unknownCount === 1 && !brandHint && at === 0 && words.length === 2 && unknown!.length >= 2 && !/^\d+$/.test(unknown!)) {
      return { verdict: 'refusal', keyword: kw.label, brandHint: unknown!, brandHintKnown: false };
    }
    return { verdict: 'review', keyword: kw.label, reason: unknownCount > 2 ? 'keyword-in-sentence' : 'keyword-unknown-word' };
  };
}

/** True when `a` and `b` differ by at most one insertion, deletion, substitution or adjacent swap. */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length, lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true; // substitution
    return i + 1 < la && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2); // swap
  }
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}
