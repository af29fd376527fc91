/**
 * The promotional-content check (issue 3): does a message marked BILGILENDIRME (informational,
 * exempt from consent) actually promote a product? İYS/Law 6563 exempt only messages that inform
 * about an existing relationship (delivery, OTP, debt, contract); one that advertises — discounts,
 * coupons, "kampanya", "indirim", "%", "fırsat", "hediye", calls to buy — is commercial and needs
 * consent (Ticari İletişim ve Ticari Elektronik İletiler Hakkında Yönetmelik, m. 3 "ticari
 * elektronik ileti" and m. 6/2 on informational messages carrying promotion).
 *
 * Pure: no I/O, no state. Matching runs on the text as a person reads it (`readableText`, issue 10
 * item 3 / field case C43): NFKC (fullwidth and mathematical letters, ligatures), format and
 * default-ignorable characters removed (zero-width space, soft hyphen, joiners, BOM), Cyrillic /
 * Greek look-alikes folded to Latin (confusables.ts, from Unicode UTS #39 confusables.txt), then
 * Turkish lower case with diacritics dropped (ç ğ ı ö ş ü → c g i o s u) so `İNDİRİM`, `indirim`
 * and `Indirim` match alike. A second view (`letterView`) joins letters spelled apart
 * (`i n d i r i m`, `k.a.m.p.a.n.y.a`) and reads digits and symbols used as letters (0→o, 1→i,
 * 3→e, 4→a, 5→s, 7→t, @→a, $→s); the positive rules also run on it, and the strong campaign
 * words are also sought with up to 3 symbols between their letters (`kam-panya`). Service
 * words (OTP, delivery, debt) only count on the first view: a disguise never lowers a score.
 * Each matched rule adds its weight once; the text is promotional when the score reaches the
 * threshold (default 2): one strong campaign word, or two weak signals.
 * Measured on test/domain/promo-lint.test.ts's labelled corpora, original and disguised
 * (precision and recall printed there); cost in bench/promo-lint.bench.ts.
 */
import { foldConfusables } from './confusables.ts';
import type { MessageType } from './types.ts';

/** What `lintPromotional` found. `hits` are rule labels (vocabulary, never message text). */
export interface PromoLintResult {
  promotional: boolean;
  /** Sum of the weights of matched rules (negative rules subtract). */
  score: number;
  /** Labels of matched rules, positive ones first, e.g. `["indirim", "percent"]`. */
  hits: string[];
}

interface Rule { label: string; re: RegExp; weight: number }

/** Folds Turkish text for matching: tr lower case, then ASCII letters for ç ğ ı ö ş ü, â → a. */
export function foldTurkish(s: string): string {
  return s.toLocaleLowerCase('tr').replace(/[çğıöşüâîû]/g, (c) => FOLD[c] ?? c);
}
const FOLD: Record<string, string> = { 'ç': 'c', 'ğ': 'g', 'ı': 'i', 'ö': 'o', 'ş': 's', 'ü': 'u', 'â': 'a', 'î': 'i', 'û': 'u' };

/**
 * Texts needing no Unicode work beyond foldTurkish: ASCII, the Turkish letters (composed), no-break
 * space (`\s` to the rules) and typographic signs NFKC leaves as they are (– — ‘ ’ “ ” • · « » © ® € ₺ …).
 */
const PLAIN_EXTRA = new Set([...'\u00a0çğıöşüÇĞİÖŞÜâîûÂÎÛ–—‘’‚“”„•·«»©®€₺£°×÷±'].map((c) => c.charCodeAt(0)));
function isPlain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80 && !PLAIN_EXTRA.has(c)) return false;
  }
  return true;
}
/** Format (Cf) and default-ignorable characters: invisible, so a reader joins what they split. */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
const MARKS = /\p{M}/gu;

/** A right-to-left override (U+202E) up to its PDF (U+202C), an isolate end (U+2069), a line end or the end. */
const RLO_RUN = /\u202E([^\u202C\u2069\n\r]*)/g;

/**
 * The text in the order it is displayed where a right-to-left override reverses it: `\u202Emiridni\u202C`
 * shows as `indirim` (Unicode UAX #9 rule X6: every character of an RLO run is right-to-left). Nested
 * embeddings inside a run are not resolved (their marks are removed later as format characters).
 */
function displayOrder(s: string): string {
  if (!s.includes('\u202E')) return s;
  return s.replace(RLO_RUN, (_m, run: string) => Array.from(run).reverse().join(''));
}

/**
 * The text as a person reads it, folded for matching: NFKC; Unicode Cf and default-ignorable
 * characters removed; look-alike letters folded to Latin (confusables.ts); Turkish lower case;
 * combining marks dropped (so ç→c, ö→o, and a stray U+0307 or U+0336 disappears); ı→i.
 * Texts of plain ASCII and Turkish letters take a fast path equal to `foldTurkish`.
 */
export function readableText(s: string): string {
  if (isPlain(s)) return foldTurkish(s);
  const t = foldConfusables(displayOrder(s).normalize('NFKC').replace(INVISIBLE, ''));
  return t.toLocaleLowerCase('tr').normalize('NFD').replace(MARKS, '').replace(/ı/g, 'i');
}

/** Separators a sender puts between letters of a word: spaces, dots, dashes and the like. */
const SEP = `[\\s.\\-_*·•,/|+~:;'"‐–—=^]`;
/**
 * A run of ≥3 fragments (1–3 letters/digits holding a letter, or one digit) split by 1–3 separators: `i n d i r i m`,
 * `k.a.m.p.a.n.y.a`, `kam pan ya`. (Two halves split by one space, `kam panya`, read as two words.)
 */
const FRAGMENT = '(?:(?=[0-9@$]{0,2}[a-z])[a-z0-9@$]{1,3}|[0-9@$])(?![a-z0-9@$])'; // 1–3 chars with a letter, or one digit
const SPELLED = new RegExp(`(?<![a-z0-9@$])${FRAGMENT}(?:${SEP}{1,3}${FRAGMENT}){2,}`, 'g');
const SPELLED_SEP = new RegExp(SEP, 'g');
const WIDE_GAP = /\s{2,}/g;
/** Digits and symbols read as letters (leetspeak), inside a word that holds a letter. */
const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's', '€': 'e', '!': 'i', '|': 'i' };
const LEET_WORD = /[a-z0-9@$€!|]*[a-z][a-z0-9@$€!|]*/g;
/** A digit or symbol between two letters (`k4mp`, `ind!r`): `B001`, `KARGO15`, `%50ye` are not read as words. */
const HAS_LEET = /[a-z][0-9@$€!|]+[a-z]/;
/** Letters split by symbols (no space): the only case the SPREAD patterns can add to the plain rules. */
const SPLIT_WORD = /[a-z][^a-z0-9\s]{1,3}[a-z]/u;

/**
 * The second view of a readable text (see `readableText`): single letters spelled apart joined,
 * and, in each word holding a letter, digits and symbols used as letters read as letters
 * (`1nd1r1m` → `indirim`, when a digit or symbol stands between two letters; a trailing `!` stays
 * punctuation). The same string when there is
 * nothing to read differently.
 */
export function letterView(folded: string): string {
  // a wider gap (two spaces or more) between spelled words stays a word break: `Ü C R E T S İ Z  K A R G O`
  let v = folded.replace(SPELLED, (m) => m.replace(WIDE_GAP, '\u0000').replace(SPELLED_SEP, '').replace(/\u0000/g, ' '));
  if (HAS_LEET.test(v)) {
    v = v.replace(LEET_WORD, (w) => {
      if (!HAS_LEET.test(w)) return w;
      let end = w.length;
      while (end > 0 && (w[end - 1] === '!' || w[end - 1] === '|')) end--;
      let out = '';
      for (let i = 0; i < end; i++) out += LEET[w[i]!] ?? w[i]!;
      return out + w.slice(end);
    });
  }
  return v;
}

/** Word-start boundary on folded text (letters and digits count as word characters). */
const B = '(?<![a-z0-9])';

const RULES: readonly Rule[] = [
  // strong: campaign vocabulary (weight 2 each)
  { label: 'kampanya', re: new RegExp(`${B}kampanya`), weight: 2 },
  { label: 'indirim', re: new RegExp(`${B}indirim`), weight: 2 },
  { label: 'kupon', re: new RegExp(`${B}kupon`), weight: 2 },
  { label: 'hediye', re: new RegExp(`${B}hediye`), weight: 2 },
  { label: 'firsat', re: new RegExp(`${B}firsat`), weight: 2 },
  { label: 'bedava', re: new RegExp(`${B}bedava`), weight: 2 },
  { label: 'cekilis', re: new RegExp(`${B}cekilis`), weight: 2 },
  { label: 'promosyon', re: new RegExp(`${B}promosyon`), weight: 2 },
  { label: 'sale', re: new RegExp(`${B}(black friday|efsane (cuma|gun|kasim)|bayram(a ozel| indirim)|yilbasina ozel|super fiyat|sok fiyat|ozel fiyat|dev fiyat|outlet|sezon sonu|en dusuk fiyat)`), weight: 2 },
  { label: 'bundle', re: /(\d+\s*al(ana)?\s*\d+\s*(ode|bedava|hediye)|ikinci(si)? (urun)?\s*(yari|%|\d+ tl)|1 alana 1)/, weight: 2 },
  { label: 'buy-now', re: new RegExp(`${B}(hemen|simdi) (al|satin al|siparis ver|alisverise|kesfet|incele|yararlan|basvur)|${B}satin al(in|abilirsiniz)?${B.replace('<!', '!')}|${B}alisverise (basla|devam)|kacirmayin|kacirmamak|kacirma${B.replace('<!', '!')}`), weight: 2 },
  { label: 'points', re: new RegExp(`${B}(para ?puan|bonus puan|puan kazan|\\d+ ?puan hediye|chip-?para|maxipuan|worldpuan)`), weight: 2 },
  { label: 'free-shipping', re: new RegExp(`${B}(ucretsiz|bedava) kargo`), weight: 2 },
  // weak signals (weight 1 each)
  { label: 'percent', re: /%\s?\d|\d\s?%|(?<![a-z])yuzde \d/, weight: 1 },
  { label: 'kazan', re: new RegExp(`${B}kazan(in|abilirsiniz|ma sansi|acaksiniz|ir|)${B.replace('<!', '!')}`), weight: 1 },
  { label: 'ucretsiz', re: new RegExp(`${B}ucretsiz`), weight: 1 },
  { label: 'avantaj', re: new RegExp(`${B}(avantaj|ayricalik)`), weight: 1 },
  { label: 'urgency', re: new RegExp(`${B}(son gun|son \\d+ (gun|saat)|sadece bugun|stoklarla sinirli|sinirli sayida|acele edin|bu firsat|gecerlilik suresi dolmadan)`), weight: 1 },
  { label: 'price-off', re: /\d[\d.,]*\s*(tl|₺)\s*(indirim|varan|yerine|'ye|'ya|ye varan|ya varan)|(tl|₺)'?(ye|ya) varan|varan (indirim|firsat)/, weight: 1 },
  { label: 'promo-code', re: new RegExp(`${B}(kodu(nu)? (ile|kullan)|indirim kodu|kod(unuz)?: ?[a-z0-9]{4,})`), weight: 1 },
  { label: 'new-collection', re: new RegExp(`${B}(yeni sezon|yeni koleksiyon|yeni urun|yeni (model|menu)ler|lansman)`), weight: 1 },
  { label: 'taksit', re: new RegExp(`${B}(\\d+ )?taksit`), weight: 1 },
  { label: 'size-ozel', re: new RegExp(`${B}(size|sana|uyelerimize|musterilerimize) ozel`), weight: 1 },
  { label: 'cta-link', re: /(tikla(yin|yarak)?|detaylar(i)? (icin|:)|hemen ziyaret|linke)/, weight: 1 },
  // service context (subtract): OTP, delivery, debt, account security
  { label: '-otp', re: new RegExp(`${B}(dogrulama kodu|tek kullanimlik|sifreniz|giris kodu|onay kodu|guvenlik kodu|kimseyle paylasmayiniz)`), weight: -2 },
  { label: '-delivery', re: new RegExp(`${B}(kargonuz|siparisiniz|gonderiniz|teslim edil|kargoya verildi|takip no)`), weight: -1 },
  { label: '-debt', re: new RegExp(`${B}(son odeme tarihi|borcunuz|gecikme|odenmemis|asgari odeme|fatura tutari|ekstreniz)`), weight: -1 },
];

/**
 * The strong campaign words sought on the letter view with up to 3 symbols (no space: `indir, im…`
 * and `he diye` are words) between letters: `kam-panya`, `in.dirim`, `h*e*d*i*y*e`, `kam🔥panya`.
 * Same labels as their RULES.
 */
const SPREAD: ReadonlyMap<string, RegExp> = new Map(
  ['kampanya', 'indirim', 'kupon', 'hediye', 'firsat', 'bedava', 'cekilis', 'promosyon']
    .map((w) => [w, new RegExp(`${B}${w.split('').join('[^a-z0-9\\s]{0,3}')}`, 'u')]),
);

/** Default score from which a text is promotional. */
export const PROMO_THRESHOLD = 2;

/**
 * Scores one message (its texts joined: SMS text, e-mail subject and plain body).
 * @param texts  one text or several parts of one message
 * @param opts   `threshold`: score from which the message is promotional (default 2)
 * @returns `{ promotional, score, hits }`; an empty message is never promotional.
 */
export function lintPromotional(texts: string | readonly string[], opts: { threshold?: number } = {}): PromoLintResult {
  return scoreOf(matchRules(typeof texts === 'string' ? texts : texts.join('\n')), opts.threshold);
}

/** Which RULES match `text` (one flag per rule, RULES order), read as `readableText` + `letterView`. */
function matchRules(text: string): boolean[] {
  const folded = readableText(text);
  const letters = letterView(folded);
  const second = letters !== folded;
  const split = SPLIT_WORD.test(letters);
  const out = new Array<boolean>(RULES.length);
  for (let i = 0; i < RULES.length; i++) {
    const r = RULES[i]!;
    let hit = r.re.test(folded);
    if (r.weight > 0 && !hit) {
      // a disguise can only add: positive rules also read the letter view, strong words spread out
      if (second) hit = r.re.test(letters);
      if (!hit && split) { const spread = SPREAD.get(r.label); if (spread) hit = spread.test(letters); }
    }
    out[i] = hit;
  }
  return out;
}

/** Score, verdict and labels of a set of matched rules. */
function scoreOf(matched: readonly boolean[], threshold = PROMO_THRESHOLD): PromoLintResult {
  let score = 0;
  let positive = 0;
  const hits: string[] = [];
  const negatives: string[] = [];
  for (let i = 0; i < RULES.length; i++) {
    if (!matched[i]) continue;
    const r = RULES[i]!;
    score += r.weight;
    if (r.weight > 0) { positive += r.weight; hits.push(r.label); } else negatives.push(r.label);
  }
  // A strong campaign word (or two) outweighs service context: "Siparişiniz kargoda; %20 indirim…" is mixed, hence promotional.
  const promotional = positive >= 4 || score >= threshold;
  return { promotional, score, hits: [...hits, ...negatives] };
}

/**
 * Lints each text on its own: one request may carry several messages (Netgsm `messages[]`, an
 * iletiMerkezi `message` array), and a service text beside a campaign must not lower the
 * campaign's score (review: an OTP text + "Kampanya başladı!" passed as informational). The
 * request is promotional when any text is, or when all of them read together are (parts of one
 * message); the result is the most promotional text's (its hits).
 */
export function lintEach(texts: readonly string[]): PromoLintResult {
  const acc = new PromoLintAccumulator();
  for (const t of texts) acc.add(t);
  return acc.result();
}

/**
 * `lintEach` over texts fed one at a time (a streamed campaign list's per-number phrases): holds
 * the best single result and the rules any text matched, never the texts. `result()` equals
 * `lintEach` of every text added, in any order.
 */
export class PromoLintAccumulator {
  #best: PromoLintResult | null = null;
  readonly #any = new Array<boolean>(RULES.length).fill(false);
  #count = 0;

  /** Lints one more text. */
  add(text: string): void {
    const m = matchRules(text);
    for (let i = 0; i < m.length; i++) if (m[i]) this.#any[i] = true;
    this.#count++;
    const r = scoreOf(m);
    const best = this.#best;
    if (best === null || (r.promotional && !best.promotional) || (r.promotional === best.promotional && r.score > best.score)) this.#best = r;
  }

  /** The verdict over every text added (no text: the lint of ''). */
  result(): PromoLintResult {
    const best = this.#best;
    if (best === null) return lintPromotional('');
    if (best.promotional || this.#count < 2) return best;
    // parts of one message (an e-mail's subject and body) may only read as a campaign together:
    // the rules matched by any part (each rule counts once, as in one joined text)
    const together = scoreOf(this.#any);
    return together.promotional ? together : best;
  }
}

/** What to do with a BILGILENDIRME message that reads as promotional (config `promotionalInformational`). */
export const PROMOTIONAL_POLICIES = ['block', 'treat-as-commercial', 'warn'] as const;
export type PromotionalPolicy = (typeof PROMOTIONAL_POLICIES)[number];

/** Outcome of the policy for one message. */
export interface PromotionalOutcome {
  /** Message type the consent check must use. */
  messageType: MessageType;
  /** `none`: not informational or not promotional; else the policy that applied. */
  action: 'none' | PromotionalPolicy;
  lint: PromoLintResult | null;
}

/** Hit label of a message whose text the gateway cannot see (a provider-side template). */
export const UNSEEN_TEXT_HIT = 'unseen-text';

/**
 * Applies `policy` to a message declared `declared`. Only BILGILENDIRME is linted (a TICARI
 * message needs consent anyway). `block` → the caller refuses the message; `treat-as-commercial`
 * (default) → checked as TICARI; `warn` → checked as declared, flagged.
 * @param unseen  set (a short reason, e.g. `template_id`) when part of the message's text is not in
 *   the request (a SendGrid dynamic template): such a message cannot prove it is informational and
 *   is handled as promotional (hits `unseen-text` + the reason), whatever its visible parts say.
 * @param linted  the lint of the whole message computed by the caller (PromoLintAccumulator over a
 *   streamed list's texts); used instead of linting `texts`
 */
export function applyPromotionalPolicy(declared: MessageType, texts: readonly string[], policy: PromotionalPolicy = 'treat-as-commercial', unseen?: string, linted?: PromoLintResult): PromotionalOutcome {
  if (declared !== 'BILGILENDIRME') return { messageType: declared, action: 'none', lint: null };
  const seen = linted ?? lintEach(texts);
  const lint = unseen ? { promotional: true, score: Math.max(seen.score, PROMO_THRESHOLD), hits: [UNSEEN_TEXT_HIT, unseen, ...seen.hits] } : seen;
  if (!lint.promotional) return { messageType: declared, action: 'none', lint };
  return { messageType: policy === 'treat-as-commercial' ? 'TICARI' : declared, action: policy, lint };
}
