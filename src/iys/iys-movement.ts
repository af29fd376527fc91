import { normalizeIysRecipient } from '../domain/recipient.ts';
import { formatIysDate, isIysDate } from '../domain/turkish-time.ts';
import {
  CONSENT_SOURCES, CONSENT_STATUSES, CONSENT_TYPES, RECIPIENT_TYPES,
  type ConsentSource, type ConsentStatus, type ConsentType, type Movement, type RecipientType,
} from '../domain/types.ts';

/** A movement as İYS's pull feed, push body, history and daily file carry it. */
export interface RawIysMovement {
  recipient?: unknown; recipientType?: unknown; type?: unknown; status?: unknown;
  source?: unknown; consentDate?: unknown; creationDate?: unknown; transactionId?: unknown;
  brandCode?: unknown; iysCode?: unknown;
}

const has = (list: readonly string[], v: unknown): v is string => typeof v === 'string' && list.includes(v);

/**
 * İYS movement → mirror Movement for `brandCode`: recipient normalized (a `+9005…` record keeps
 * `noncanonical: true`, field case C01), enums and dates checked.
 * @returns the movement, or `{ error }` naming the bad field (the caller counts and logs it; a bad
 *   item never stops a page)
 */
export function fromIysMovement(brandCode: number, m: RawIysMovement, nowMs = Date.now()): Movement | { error: string } {
  if (!has(CONSENT_TYPES, m.type)) return { error: 'type' };
  if (!has(CONSENT_STATUSES, m.status)) return { error: 'status' };
  const recipientType = m.recipientType === undefined || m.recipientType === null ? 'BIREYSEL' : m.recipientType;
  if (!has(RECIPIENT_TYPES, recipientType)) return { error: 'recipientType' };
  if (m.source != null && m.source !== '' && !has(CONSENT_SOURCES, m.source)) return { error: 'source' };
  // a date in the future would outrank every later refusal (İYS never produces one: H162)
  const latest = formatIysDate(new Date(nowMs + 10 * 60_000));
  for (const f of ['consentDate', 'creationDate'] as const) {
    const v = m[f];
    if (v != null && v !== '' && (typeof v !== 'string' || !isIysDate(v) || v > latest)) return { error: f };
  }
  if (typeof m.transactionId === 'string' && (m.transactionId.length > 128 || !/^[0-9A-Za-z-]*$/.test(m.transactionId))) return { error: 'transactionId' };
  if (typeof m.recipient !== 'string') return { error: 'recipient' };
  const type = m.type as ConsentType;
  const n = normalizeIysRecipient(m.recipient, m.recipient.includes('@') ? 'EPOSTA' : type === 'EPOSTA' ? 'ARAMA' : type);
  if (!n.ok || !n.registrable) return { error: 'recipient' };
  return {
    brandCode, recipient: n.canonical, recipientType: recipientType as RecipientType, type, status: m.status as ConsentStatus,
    source: (m.source || null) as ConsentSource | null,
    consentDate: (m.consentDate as string) || null, creationDate: (m.creationDate as string) || null,
    transactionId: typeof m.transactionId === 'string' && m.transactionId ? m.transactionId : null,
    noncanonical: n.noncanonical,
  };
}
