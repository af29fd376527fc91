/**
 * Look-alike letters folded to the Latin letter a reader sees, for the promotional lint
 * (promo-lint.ts, issue 10 item 3 / field case C43: `kаmpanya` with a Cyrillic а passed).
 *
 * Source: Unicode Technical Standard #39, Unicode Security Mechanisms, data file
 * `confusables.txt` (https://www.unicode.org/Public/security/latest/confusables.txt), type MA,
 * transcribed by hand (the file itself is not shipped or read at run time). Kept: the
 * Cyrillic, Greek and Armenian letters whose prototype (the right-hand side) is one Latin letter,
 * with or without a diacritic (e.g. `0430 ; 0061 ; MA # ( а → a ) CYRILLIC SMALL LETTER A`, `04AB ;
 * 00E7 ; MA # ( ҫ → ç )`), so every Turkish letter a, c/ç, e, ı/i, o/ö, p, s/ş, u/ü, y, … has its
 * look-alikes here. Where confusables.txt maps a letter only through a chain (`к → ĸ`), the final
 * Latin letter is used. The last group (`SHAPES`) goes beyond the file on purpose: letters it maps to
 * Latin small capitals or to nothing Latin (н → ʜ, м → ᴍ, т → ᴛ, п, η, ω), letters with a
 * diaeresis read as ü/ä/ï (ӱ, ӓ, ΰ, ΐ), and Latin small capitals themselves, which a Turkish
 * reader takes for the lower-case letter. Fullwidth and mathematical letters (ｋ, 𝐤) are not listed: NFKC folds them
 * first. Digits and symbols used as letters (0 → o) are not confusables: promo-lint.ts handles them.
 */
const PAIRS = [
  // Cyrillic capital → Latin
  'АA', 'ВB', 'ЕE', 'ЁË', 'ЅS', 'ІI', 'ЇÏ', 'ЈJ', 'КK', 'МM', 'НH', 'ОO', 'РP', 'СC', 'ТT', 'УY', 'ХX',
  'ЬB', 'ҮY', 'ҪÇ', 'ҺH', 'ӀI', 'ӦÖ', 'ӨO', 'ԌG', 'ԚQ', 'ԜW', 'ѴV', 'ԀD',
  // Cyrillic small → Latin
  'аa', 'гr', 'еe', 'ёë', 'кk', 'оo', 'рp', 'сc', 'уy', 'хx', 'ьb',
  'ѕs', 'іi', 'їï', 'јj', 'һh', 'ӏl', 'ҫç', 'үy', 'ӧö', 'өo', 'ԁd', 'ԛq', 'ԝw', 'ѵv', 'ѡw',
  // Greek capital → Latin
  'ΑA', 'ΒB', 'ΕE', 'ΖZ', 'ΗH', 'ΙI', 'ΚK', 'ΜM', 'ΝN', 'ΟO', 'ΡP', 'ΤT', 'ΥY', 'ΧX', 'ϹC', 'ͿJ', 'ΪÏ', 'ΫŸ',
  // Greek small → Latin
  'αa', 'γy', 'ιi', 'κk', 'νv', 'οo', 'ρp', 'σo', 'τt', 'υu', 'χx', 'ϲc', 'ϳj', 'ίí', 'ϊï', 'όó', 'ύú', 'ϋü',
  // Armenian small → Latin
  'օo', 'սu', 'ցg', 'հh', 'ոn', 'ռn', 'զq', 'ւl',
  // Latin letters confusables.txt maps to a Latin letter (IPA); ı is a Turkish letter and stays
  'ɑa', 'ɡg', 'ɩi',
  // SHAPES (see above): not confusables.txt prototypes, read as these letters all the same
  'вb', 'мm', 'нh', 'пn', 'тt', 'ηn', 'ωw', 'ӱü', 'ӓä', 'ΰü', 'ΐï',
  'ɪi', 'ʏy', 'ɴn', 'ʀr', 'ᴀa', 'ᴄc', 'ᴅd', 'ᴇe', 'ᴋk', 'ᴍm', 'ᴏo', 'ᴘp', 'ᴛt', 'ᴜu', 'ᴠv', 'ᴡw', 'ᴢz', 'ꜱs',
] as const;

/** Code point of a look-alike → the Latin letter (possibly with diacritic) it reads as. */
export const CONFUSABLE_TO_LATIN: ReadonlyMap<number, string> = new Map(PAIRS.map((p) => [p.codePointAt(0)!, p.slice(1)]));

/** True when `s` holds a character of the table (fast rejection for Latin-only texts). */
export const HAS_CONFUSABLE = new RegExp(`[${PAIRS.map((p) => p[0]).join('')}]`, 'u');

/** `s` with every look-alike of the table replaced by its Latin letter; other characters as they were. */
export function foldConfusables(s: string): string {
  if (!HAS_CONFUSABLE.test(s)) return s;
  let out = '';
  for (const ch of s) out += CONFUSABLE_TO_LATIN.get(ch.codePointAt(0)!) ?? ch;
  return out;
}
