import { normalizeRecipient } from '../../domain/recipient.ts';
import { CONSENT_TYPES, RECIPIENT_TYPES, type ConsentKey, type ConsentType } from '../../domain/types.ts';
import type { ConsentStore } from '../../mirror/consent-store.ts';
import { recordAt, type AppliedMovement } from '../../mirror/timeline.ts';
import { movementRef } from './record-format.ts';

/**
 * The second table of a complaint file (`iys-gate audit export`, issue 15): the movements of the
 * recipient's keys as the mirror applied them (movement history, timeline.ts), so each decision's
 * consent snapshot can be matched (by `movementRef`) to the movement it used and to when the
 * mirror learned it. Columns below; times ISO 8601 UTC plus epoch ms. The recipient itself is not
 * repeated: the file is about the one recipient the officer named.
 */
export const MOVEMENTS_CSV_HEADER = 'appliedAt,appliedAtMs,outcome,inForceAtFrom,brandCode,recipientType,type,status,source,consentDate,creationDate,transactionId,movementRef\n';

/** One row of the movements table. */
export interface MovementRow { key: ConsentKey; entry: AppliedMovement; inForceAtFrom: boolean }

/**
 * The keys a complaint about `recipient` concerns: each brand × recipientType (BIREYSEL, TACIR) ×
 * type (`type` when given, else EPOSTA for an e-mail address, MESAJ and ARAMA for a phone
 * number), with the recipient canonical (domain/recipient.ts). Empty when it is neither.
 */
export function complaintKeys(recipient: string, brands: readonly number[], type?: ConsentType): ConsentKey[] {
  const types = type ? [type] : normalizeRecipient(recipient, 'EPOSTA').ok ? ['EPOSTA' as const] : (['MESAJ', 'ARAMA'] as const);
  const out: ConsentKey[] = [];
  for (const brandCode of brands) {
    for (const t of types) {
      if (!CONSENT_TYPES.includes(t)) continue;
      const n = normalizeRecipient(recipient, t);
      if (!n.ok) continue;
      for (const recipientType of RECIPIENT_TYPES) out.push({ brandCode, recipientType, type: t, recipient: n.canonical });
    }
  }
  return out;
}

/**
 * Movements of `keys` applied up to `toMs`, key by key in apply order; `inForceAtFrom` marks the
 * record each key held at `fromMs` (the state the complaint window starts from).
 * @throws GW_ERR_STORE_UNAVAILABLE as ConsentStore.timeline
 */
export async function complaintMovements(store: ConsentStore, keys: readonly ConsentKey[], fromMs: number, toMs: number): Promise<MovementRow[]> {
  const rows: MovementRow[] = [];
  for (const key of keys) {
    const entries = await store.timeline(key);
    const atFrom = recordAt(entries, fromMs);
    for (const entry of entries) if (entry.appliedAt <= toMs) rows.push({ key, entry, inForceAtFrom: entry === atFrom });
  }
  return rows;
}

const cell = (v: unknown) => { const s = v === null || v === undefined ? '' : String(v); return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; };

/** One CSV line of the movements table (MOVEMENTS_CSV_HEADER's columns). */
export function movementCsvLine(r: MovementRow): string {
  const m = r.entry.movement;
  const ref = movementRef(m.creationDate, m.transactionId);
  return [
    new Date(r.entry.appliedAt).toISOString(), r.entry.appliedAt, r.entry.outcome, r.inForceAtFrom ? 'yes' : '', r.key.brandCode, r.key.recipientType, r.key.type,
    m.status, m.source, m.consentDate, m.creationDate, m.transactionId, ref ? ref.toString(16).padStart(8, '0') : '',
  ].map(cell).join(',') + '\n';
}
