/**
 * SMPP address (TON, NPI, digits) → a recipient string the gate's one normalizer reads
 * (domain/recipient.ts `normalizePhone`). SMPP 3.4 §5.2.5 (TON): 1 international, 2 national,
 * 0 unknown; others (network specific, subscriber, alphanumeric, abbreviated) are passed as
 * written, so a short code or a name fails normalization and is blocked (fail closed).
 */

/** TON values of SMPP 3.4 §5.2.5. */
export const TON_INTERNATIONAL = 1;
export const TON_NATIONAL = 2;

/**
 * - international: `+` and the digits (a written `+` or `00` prefix is dropped first, so
 *   `905321234567`, `+905321234567` and `00905321234567` are one number);
 * - national: the digits as written (`05321234567`, `5321234567`: Turkish national spellings);
 * - unknown and the rest: as written (`+90…`, `0090…`, `0532…`, `90532…` all normalize).
 */
export function recipientOf(ton: number, addr: string): string {
  if (ton === TON_INTERNATIONAL) {
    if (addr.startsWith('+')) return addr;
    if (addr.startsWith('00')) return '+' + addr.slice(2);
    return '+' + addr;
  }
  return addr;
}

/** A number for logs: the last two digits only (`***67`); never the full address. */
export function maskAddr(addr: string): string {
  return addr.length <= 2 ? '***' : `***${addr.slice(-2)}`;
}
