// Baseline of bench/promo-lint.bench.ts: src/domain/promo-lint.ts as it was before issue 10 item 3
// (commit 96ecdb3), kept unchanged so the new lint is measured against it in the same run.
/**
 * The promotional-content check (issue 3): does a message marked BILGILENDIRME (informational,
 * exempt from consent) actually promote a product? İYS/Law 6563 exempt only messages that inform
 * about an existing relationship (delivery, OTP, debt, contract); one that advertises — discounts,
 * coupons, "kampanya", "indirim", "%", "fırsat", "hediye", calls to buy — is commercial and needs
 * consent (Ticari İletişim ve Ticari Elektronik İletiler Hakkında Yönetmelik, m. 3 "ticari
 * elektronik ileti" and m. 6/2 on informational messages carrying promotion).
 *
 * Pure: no I/O, no state. Matching runs on a folded form (Turkish lower case, then ç ğ ı ö ş ü →
 * c g i o s u) so `İNDİRİM`, `indirim` and `Indirim` match alike. Each matched rule adds its
 * weight once; the text is promotional when the score reaches the threshold (default 2): one
 * strong campaign word, or two weak signals. Service words (OTP, delivery, debt) subtract.
 * Measured on test/domain/promo-lint.test.ts's labelled corpus (precision and recall printed there).
 */
import type { MessageType } from '../../src/domain/types.ts';

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
  { label: 'buy-now', re: new RegExp(`${B}(hemen|simdi) (al|satin al|siparis ver|alisverise|kesfet|incele|yararlan|basvur)|${B}satin al(in|abilirsiniz)?${B.replace('<!', '!')}|${B}alisverise (basla|devam)|kacirmayin|kacirma${B.replace('<!', '!')}`), weight: 2 },
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

/** Default score from which a text is promotional. */
export const PROMO_THRESHOLD = 2;

/**
 * Scores one message (its texts joined: SMS text, e-mail subject and plain body).
 * @param texts  one text or several parts of one message
 * @param opts   `threshold`: score from which the message is promotional (default 2)
 * @returns `{ promotional, score, hits }`; an empty message is never promotional.
 */
export function lintPromotional(texts: string | readonly string[], opts: { threshold?: number } = {}): PromoLintResult {
  const folded = foldTurkish(typeof texts === 'string' ? texts : texts.join('\n'));
  let score = 0;
  let positive = 0;
  const hits: string[] = [];
  const negatives: string[] = [];
  for (const r of RULES) {
    if (!r.re.test(folded)) continue;
    score += r.weight;
    if (r.weight > 0) { positive += r.weight; hits.push(r.label); } else negatives.push(r.label);
  }
  // A strong campaign word (or two) outweighs service context: "Siparişiniz kargoda; %20 indirim…" is mixed, hence promotional.
  const threshold = opts.threshold ?? PROMO_THRESHOLD;
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
  let best: PromoLintResult | null = null;
  for (const t of texts) {
    const r = lintPromotional(t);
    if (best === null || (r.promotional && !best.promotional) || (r.promotional === best.promotional && r.score > best.score)) best = r;
  }
  if (best === null) return lintPromotional('');
  if (best.promotional || texts.length < 2) return best;
  // parts of one message (an e-mail's subject and body) may only read as a campaign together
  const together = lintPromotional(texts);
  return together.promotional ? together : best;
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

/**
 * Applies `policy` to a message declared `declared`. Only BILGILENDIRME is linted (a TICARI
 * message needs consent anyway). `block` → the caller refuses the message; `treat-as-commercial`
 * (default) → checked as TICARI; `warn` → checked as declared, flagged.
 */
export function applyPromotionalPolicy(declared: MessageType, texts: readonly string[], policy: PromotionalPolicy = 'treat-as-commercial'): PromotionalOutcome {
  if (declared !== 'BILGILENDIRME') return { messageType: declared, action: 'none', lint: null };
  const lint = lintEach(texts);
  if (!lint.promotional) return { messageType: declared, action: 'none', lint };
  return { messageType: policy === 'treat-as-commercial' ? 'TICARI' : declared, action: policy, lint };
}
