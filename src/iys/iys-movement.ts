import { formatIysDate } from '../domain/turkish-time.ts';
import type { Movement } from '../domain/types.ts';
import { movementFromFields, type MovementFields } from '../mirror/movement-rules.ts';

/** A movement as İYS's pull feed, push body, history and daily file carry it. */
export interface RawIysMovement {
  recipient?: unknown; recipientType?: unknown; type?: unknown; status?: unknown;
  source?: unknown; consentDate?: unknown; creationDate?: unknown; transactionId?: unknown;
  brandCode?: unknown; iysCode?: unknown;
}

/**
 * İYS movement → mirror Movement for `brandCode`: recipient normalized (a `+9005…` record keeps
 * `noncanonical: true`, field case C01) and checked with the file import's rules (movement-rules.ts).
 * @returns the movement, or `{ error }` naming the bad field (the caller counts and logs it; a bad
 *   item never stops a page)
 */
export function fromIysMovement(brandCode: number, m: RawIysMovement, nowMs = Date.now()): Movement | { error: string } {
  const f: Record<string, string> = {};
  for (const k of ['recipient', 'type', 'status', 'recipientType', 'source', 'consentDate', 'creationDate', 'transactionId'] as const) {
    const v = m[k];
    if (v === undefined || v === null) f[k] = '';
    else if (typeof v === 'string') f[k] = v;
    else return { error: k };
  }
  // the same rules as a file import (mirror/movement-rules.ts); 10 minutes of clock skew allowed
  const r = movementFromFields(brandCode, { ...(f as Omit<MovementFields, 'retailerCode' | 'retailerAccess'>), retailerCode: '', retailerAccess: '' },
    formatIysDate(new Date(nowMs + 10 * 60_000)), 'daily');
  return 'field' in r ? { error: r.field } : r;
}
