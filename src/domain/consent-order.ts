import type { Movement } from './types.ts';

/**
 * Ordering of competing movements for one key (DOMAIN.md §2): the newer wins by `consentDate`,
 * then by İYS `creationDate`; on a full tie RET wins. A null date (TACIR records may lack
 * consentDate, C08; a locally collected movement has no creationDate yet) sorts before any date.
 * Dates are `YYYY-MM-DD HH:mm:ss` strings in one time zone, so string order is time order.
 *
 * @returns > 0 when `a` is newer than `b`, < 0 when older, 0 when equivalent (same dates and status).
 */
export function compareMovements(a: Movement, b: Movement): number {
  const c = cmpDate(a.consentDate, b.consentDate);
  if (c !== 0) return c;
  const d = cmpDate(a.creationDate, b.creationDate);
  if (d !== 0) return d;
  if (a.status === b.status) return 0;
  return a.status === 'RET' ? 1 : -1;
}

function cmpDate(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/**
 * True when two movements are the same movement (the unit of de-duplication: İYS gives every
 * movement of one address and type recorded in the same second one shared `transactionId`, so
 * the transactionId alone never identifies a movement; reference §6).
 */
export function sameMovement(a: Movement, b: Movement): boolean {
  return a.brandCode === b.brandCode && a.recipient === b.recipient && a.type === b.type
    && a.recipientType === b.recipientType && a.status === b.status && a.source === b.source
    && a.consentDate === b.consentDate && a.creationDate === b.creationDate
    && a.transactionId === b.transactionId && Boolean(a.noncanonical) === Boolean(b.noncanonical);
}

/**
 * Decides whether `incoming` replaces `current` as a key's record.
 * @returns 'applied' when it is newer (or there is no current record), 'duplicate' when it is the
 *   very same movement, 'ignoredOlder' otherwise (an older movement arriving late changes nothing).
 */
export function resolveMovement(current: Movement | null, incoming: Movement): 'applied' | 'ignoredOlder' | 'duplicate' {
  if (current === null) return 'applied';
  if (sameMovement(current, incoming)) return 'duplicate';
  return compareMovements(incoming, current) > 0 ? 'applied' : 'ignoredOlder';
}
