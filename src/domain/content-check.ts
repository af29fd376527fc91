/**
 * The content rules of a commercial (TICARI) message (issue 14): Ticari İletişim ve Ticari
 * Elektronik İletiler Hakkında Yönetmelik art. 7 and 9 — the sender must be identifiable (trade
 * name and MERSİS number, or the tradesman's name) and the recipient must be able to refuse
 * easily and free of charge, which every commercial SMS shows as a refusal instruction (`RET yazıp
 * 3338'e gönderin`, `İptal için IPTAL yazıp 4609'a SMS atın`) or an unsubscribe link (summary:
 * https://www.sertels.av.tr/avukat/hukuk/eticaret-hukuk/ticari-iletisim-ve-ticari-elektronik-iletiler-hakkinda-yonetmelik-spam.html).
 * Pure. Texts are read as a person reads them (promo-lint.ts `readableText`: NFKC, invisible
 * characters removed, look-alikes folded, Turkish lower case, no diacritics).
 */
import { readableText } from './promo-lint.ts';

/** What a TICARI text lacks: `ret-instruction` (no keyword + number nor unsubscribe link), `identity` (no trade name nor MERSİS number). */
export type ContentMissing = 'ret-instruction' | 'identity';

/** The sender identity of a brand (config `brands[].identity`). */
export interface SenderIdentity { title: string; mersis?: string | undefined }

const KEYWORD_THEN_NUMBER = /(?<![a-z0-9])(ret|iptal|stop|red|cikis)(?![a-z]).{0,60}?(?<![\d])\d{4,5}(?!\d)/s;
const NUMBER_THEN_KEYWORD = /(?<![\d])\d{4,5}(?!\d).{0,40}?(?<![a-z0-9])(ret|iptal|stop)(?![a-z])/s;
const LINK = /(https?:\/\/|www\.)[^\s]+/g;
const UNSUB_WORDS = /(?<![a-z])(unsubscribe|unsub|opt-?out|abonelik|iptal|listeden|ileti almamak|mesaj almamak|e-?posta almamak|ret(?![a-z]))/;
const SQUASH = /[^a-z0-9]+/g;

/**
 * Which content rules `texts` (one message: SMS text, or e-mail subject + body) break.
 * `identity` is only checked when the brand has one configured (nothing to look for otherwise).
 * @returns missing items, in a fixed order (empty: the message carries both)
 */
export function checkCommercialContent(texts: readonly string[], identity?: SenderIdentity): ContentMissing[] {
  const folded = readableText(texts.join('\n'));
  const missing: ContentMissing[] = [];
  let refusal = KEYWORD_THEN_NUMBER.test(folded) || NUMBER_THEN_KEYWORD.test(folded);
  if (!refusal) {
    for (const m of folded.matchAll(LINK)) {
      const around = folded.slice(Math.max(0, m.index - 60), m.index + m[0].length + 10);
      if (UNSUB_WORDS.test(around)) { refusal = true; break; }
    }
  }
  if (!refusal) missing.push('ret-instruction');
  if (identity) {
    const squashed = folded.replace(SQUASH, '');
    const title = readableText(identity.title).replace(/\b(a\.?s|ltd|sti|san|tic|ve)\b\.?/g, ' ').replace(SQUASH, '');
    const hasTitle = title.length >= 2 && squashed.includes(title);
    const hasMersis = identity.mersis !== undefined && squashed.includes(identity.mersis);
    if (!hasTitle && !hasMersis) missing.push('identity');
  }
  return missing;
}
