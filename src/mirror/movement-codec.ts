import {
  CONSENT_SOURCES, CONSENT_TYPES, RECIPIENT_TYPES,
  type ConsentSource, type ConsentType, type Movement, type RecipientType,
} from '../domain/types.ts';

/**
 * Compact encodings shared by the embedded store's journal, snapshot and in-memory arrays.
 *
 * Journal line (tab-separated, one movement, `\n`-terminated):
 * `brandCode  B|T  M|A|E  recipient  O|R  source  consentDate  creationDate  transactionId
 *  noncanonical(0|1)  retailerCode  retailerAccess(comma-joined)` — empty field = null.
 * Metadata line: `#m  name  JSON(value)`.
 */

export const RT_CODE: Record<RecipientType, number> = { BIREYSEL: 0, TACIR: 1 };
export const TYPE_CODE: Record<ConsentType, number> = { MESAJ: 0, ARAMA: 1, EPOSTA: 2 };
const RT_LETTER = ['B', 'T'] as const;
const TYPE_LETTER = ['M', 'A', 'E'] as const;
const SOURCE_CODE = new Map<string, number>(CONSENT_SOURCES.map((s, i) => [s, i + 1]));

/** Source → 1..n (0 = null). */
export function encodeSource(s: ConsentSource | null): number {
  return s === null ? 0 : (SOURCE_CODE.get(s) ?? 0);
}
/** 1..n → source (0 → null). */
export function decodeSource(n: number): ConsentSource | null {
  return n === 0 ? null : (CONSENT_SOURCES[n - 1] ?? null);
}

const TRT_OFFSET_S = 3 * 3600; // Turkey: UTC+03:00 all year since 2016-09-07 (C25)

/**
 * `YYYY-MM-DD HH:mm:ss` (Turkish time) → seconds since the Unix epoch (uint32 range), 0 for null.
 * The caller has validated the shape (domain/turkish-time.ts); this is the hot-path codec.
 */
export function encodeDate(s: string | null): number {
  if (s === null || s === '') return 0;
  // integer days-from-civil (H. Hinnant), no substrings and no Date: ~10× cheaper on the import path
  const y = d2(s, 0) * 100 + d2(s, 2);
  const mo = d2(s, 5);
  if (y < 1970 || s.length !== 19) {
    const ms = Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10), +s.slice(11, 13), +s.slice(14, 16), +s.slice(17, 19));
    return ms / 1000 - TRT_OFFSET_S;
  }
  const yy = mo <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5) + d2(s, 8) - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  const days = era * 146_097 + doe - 719_468;
  return days * 86_400 + d2(s, 11) * 3600 + d2(s, 14) * 60 + d2(s, 17) - TRT_OFFSET_S;
}
/** Two ASCII digits of `s` at `i` as a number (the caller validated the shape). */
function d2(s: string, i: number): number {
  return (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;
}
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/**
 * Inverse of encodeDate, by integer arithmetic (H. Hinnant's civil-from-days): no Date object,
 * ~10× cheaper than toISOString, which mattered on the lookup path.
 */
export function decodeDate(n: number): string | null {
  if (n === 0) return null;
  const local = n + TRT_OFFSET_S;
  const days = Math.floor(local / 86_400);
  let sod = local - days * 86_400;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const hh = Math.floor(sod / 3600); sod -= hh * 3600;
  const mm = Math.floor(sod / 60);
  const ss = sod - mm * 60;
  return `${y}-${PAD2[m]}-${PAD2[d]} ${PAD2[hh]}:${PAD2[mm]}:${PAD2[ss]}`;
}

/** Movement → journal line (with trailing newline). */
export function movementToLine(m: Movement): string {
  return `${m.brandCode}\t${RT_LETTER[RT_CODE[m.recipientType]]}\t${TYPE_LETTER[TYPE_CODE[m.type]]}\t${m.recipient}\t${m.status === 'RET' ? 'R' : 'O'}\t${m.source ?? ''}\t${m.consentDate ?? ''}\t${m.creationDate ?? ''}\t${m.transactionId ?? ''}\t${m.noncanonical ? 1 : 0}\t${m.retailerCode ?? ''}\t${m.retailerAccess ? m.retailerAccess.join(',') : ''}\n`;
}

/** Journal line (without newline) → Movement; null when the line is malformed (e.g. torn write). */
export function lineToMovement(line: string): Movement | null {
  const f = line.split('\t');
  if (f.length !== 12) return null;
  const brandCode = Number(f[0]);
  const rt = f[1] === 'B' ? 'BIREYSEL' : f[1] === 'T' ? 'TACIR' : null;
  const type = f[2] === 'M' ? 'MESAJ' : f[2] === 'A' ? 'ARAMA' : f[2] === 'E' ? 'EPOSTA' : null;
  const status = f[4] === 'O' ? 'ONAY' : f[4] === 'R' ? 'RET' : null;
  if (!Number.isInteger(brandCode) || !rt || !type || !status || !f[3]) return null;
  const source = f[5] ? (SOURCE_CODE.has(f[5]) ? (f[5] as ConsentSource) : null) : null;
  return {
    brandCode, recipientType: rt, type, recipient: f[3], status, source,
    consentDate: f[6] || null, creationDate: f[7] || null, transactionId: f[8] || null,
    noncanonical: f[9] === '1',
    retailerCode: f[10] ? Number(f[10]) : null,
    retailerAccess: f[11] ? f[11].split(',').map(Number) : null,
  };
}

export { CONSENT_TYPES, RECIPIENT_TYPES };
