/**
 * Text of a short message, for the promotional lint: UDH (concatenation references, national
 * language shift tables) and `data_coding` → a JS string. Rules: 3GPP TS 23.040 §9.2.3.24 (UDH
 * information elements 0x00, 0x08, 0x24, 0x25), 3GPP TS 23.038 §6.2.1 (GSM 7-bit default
 * alphabet and extension table), Annex A.2.1 / A.3.1 (Turkish single-shift and locking-shift
 * tables), SMPP 3.4 §5.2.19 (data_coding: 0 SMSC default = GSM 03.38, 1 IA5, 3 Latin-1, 8 UCS-2).
 *
 * SMPP carries GSM 7-bit text unpacked (one septet per octet), as Kannel, Jasmin and node-smpp
 * send it. A coding the gate cannot read (binary 2/4, JIS, Cyrillic, Hebrew, …) gives
 * `unseen`: the promotional policy then treats the message as promotional (fail closed).
 */

/** GSM 03.38 default alphabet, septets 0x00–0x7F (0x1B is the escape to the extension table). */
const GSM_DEFAULT = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** 3GPP TS 23.038 A.3.1: Turkish locking-shift table (national language identifier 1). */
const GSM_TR_LOCKING = '@£$¥€éùıòÇ\nĞğ\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bŞşßÉ !"#¤%&\'()*+,-./0123456789:;<=>?İABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§çabcdefghijklmnopqrstuvwxyzäöñüà';

function extTable(pairs: Record<number, string>): (string | undefined)[] {
  const t = new Array<string | undefined>(128).fill(undefined);
  for (const [k, v] of Object.entries(pairs)) t[Number(k)] = v;
  return t;
}
/** GSM 03.38 §6.2.1.1 default extension table. */
const GSM_DEFAULT_EXT = extTable({ 0x0a: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2f: '\\', 0x3c: '[', 0x3d: '~', 0x3e: ']', 0x40: '|', 0x65: '€' });
/** 3GPP TS 23.038 A.2.1: Turkish single-shift table. */
const GSM_TR_SINGLE = extTable({
  0x0a: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2f: '\\', 0x3c: '[', 0x3d: '~', 0x3e: ']', 0x40: '|',
  0x47: 'Ğ', 0x49: 'İ', 0x53: 'Ş', 0x63: 'ç', 0x65: '€', 0x67: 'ğ', 0x69: 'ı', 0x73: 'ş',
});

const LOCKING: Record<number, string> = { 0: GSM_DEFAULT, 1: GSM_TR_LOCKING };
const SINGLE: Record<number, (string | undefined)[]> = { 0: GSM_DEFAULT_EXT, 1: GSM_TR_SINGLE };

/** What the UDH of one part says. */
export interface Udh {
  /** Bytes of the UDH including its length octet (0 when there is none). */
  length: number;
  /** Concatenation reference (8- or 16-bit IE), -1 when the part is not concatenated by UDH. */
  ref: number;
  total: number;
  seq: number;
  /** National language identifiers of the shift tables (0 = GSM default). */
  singleShift: number;
  lockingShift: number;
}

const NO_UDH: Udh = Object.freeze({ length: 0, ref: -1, total: 0, seq: 0, singleShift: 0, lockingShift: 0 });

/**
 * Reads the UDH at the start of `b[start, end)` (present when esm_class has the UDHI bit 0x40).
 * @returns the UDH, or null when its length runs past the message or an IE is truncated
 */
export function readUdh(b: Buffer, start: number, end: number, udhi: boolean): Udh | null {
  if (!udhi) return NO_UDH;
  if (start >= end) return null;
  const udhl = b[start]!;
  const stop = start + 1 + udhl;
  if (stop > end) return null;
  let ref = -1, total = 0, seq = 0, singleShift = 0, lockingShift = 0;
  let o = start + 1;
  while (o < stop) {
    if (o + 2 > stop) return null;
    const iei = b[o]!; const len = b[o + 1]!; o += 2;
    if (o + len > stop) return null;
    if (iei === 0x00 && len === 3) { ref = b[o]!; total = b[o + 1]!; seq = b[o + 2]!; }
    else if (iei === 0x08 && len === 4) { ref = b.readUInt16BE(o) + 0x10000; total = b[o + 2]!; seq = b[o + 3]!; }
    else if (iei === 0x24 && len === 1) singleShift = b[o]!;
    else if (iei === 0x25 && len === 1) lockingShift = b[o]!;
    o += len;
  }
  return { length: 1 + udhl, ref, total, seq, singleShift, lockingShift };
}

/** Decodes unpacked GSM 7-bit septets with the given shift tables (unknown tables: the default). */
export function decodeGsm(b: Buffer, start: number, end: number, lockingShift = 0, singleShift = 0): string {
  const table = LOCKING[lockingShift] ?? GSM_DEFAULT;
  const ext = SINGLE[singleShift] ?? GSM_DEFAULT_EXT;
  let s = '';
  for (let i = start; i < end; i++) {
    const c = b[i]! & 0x7f;
    if (c === 0x1b && i + 1 < end) {
      const x = b[++i]! & 0x7f;
      // 23.038: an escape to a position the extension table does not fill shows the base character
      s += ext[x] ?? table[x]!;
    } else s += table[c]!;
  }
  return s;
}

/** Decodes UCS-2 (UTF-16 big-endian; an odd trailing byte is ignored). */
export function decodeUcs2(b: Buffer, start: number, end: number): string {
  const n = (end - start) & ~1;
  let s = '';
  for (let i = start; i < start + n; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
  return s;
}

/** Alphabet a data_coding value selects. */
export type Alphabet = 'gsm' | 'latin1' | 'ucs2' | 'unseen';

/**
 * The alphabet of an SMPP data_coding octet (SMPP 3.4 §5.2.19; 3GPP TS 23.038 §4 for the GSM
 * coding groups 0x10–0x3F and 0xF0–0xFF).
 */
export function alphabetOf(dataCoding: number): Alphabet {
  if (dataCoding === 0) return 'gsm';
  if (dataCoding === 1 || dataCoding === 3) return 'latin1';
  if (dataCoding === 8) return 'ucs2';
  if (dataCoding < 0x10) return 'unseen';
  if ((dataCoding & 0xf0) === 0xf0) return (dataCoding & 0x04) === 0 ? 'gsm' : 'unseen';
  if ((dataCoding & 0xc0) === 0) { // general data coding group (uncompressed only)
    if ((dataCoding & 0x20) !== 0) return 'unseen';
    const a = (dataCoding >> 2) & 3;
    return a === 0 ? 'gsm' : a === 2 ? 'ucs2' : 'unseen';
  }
  return 'unseen';
}

/** The text of one part, without its UDH; null with `unseen` when the coding cannot be read. */
export function decodeText(b: Buffer, start: number, end: number, dataCoding: number, udh: Udh): string | null {
  const s = start + udh.length;
  // a national language shift IE only exists for GSM 7-bit text (23.040 §9.2.3.24.15/16): with
  // it, data_coding 1 is GSM too (node-smpp encodes shift-table text with data_coding 1)
  if (dataCoding === 1 && (udh.lockingShift !== 0 || udh.singleShift !== 0)) return decodeGsm(b, s, end, udh.lockingShift, udh.singleShift);
  switch (alphabetOf(dataCoding)) {
    case 'gsm': return decodeGsm(b, s, end, udh.lockingShift, udh.singleShift);
    case 'latin1': return b.toString('latin1', s, end);
    case 'ucs2': return decodeUcs2(b, s, end);
    default: return null;
  }
}
