import { normalizeIysRecipient } from '../domain/recipient.ts';
import { formatIysDate, isIysDate } from '../domain/turkish-time.ts';
import { CONSENT_SOURCES, CONSENT_TYPES, RECIPIENT_TYPES, type ConsentSource, type ConsentType, type Movement, type RecipientType } from '../domain/types.ts';
import { IYS_EPOCH } from './consent-rules.ts';
import { movementFromFields, type MovementFields } from '../mirror/movement-rules.ts';

/** A movement as İYS's pull feed, push body, history and daily file carry it. */
export interface RawIysMovement {
  recipient?: unknown; recipientType?: unknown; type?: unknown; status?: unknown;
  source?: unknown; consentDate?: unknown; creationDate?: unknown; transactionId?: unknown;
  brandCode?: unknown; iysCode?: unknown;
}

/**
 * Why a movement from İYS was not applied (the bounded `reason` label of
 * `iysgate_sync_dead_letters_total`):
 * - `future_date`: an ONAY whose consentDate/creationDate is ahead of the gateway's clock by more
 *   than {@link FUTURE_SKEW_MS} (H162's rule: a future date would outrank every later refusal);
 *   retried on every pull cycle and applied once the clock has caught up;
 * - `invalid_field`: an ONAY with a value İYS never produces (enum, date format, H155/H156, …);
 * - `unkeyable`: no key can be built (type, recipientType, status or recipient unreadable), so
 *   not even a RET can be applied;
 * - `unknown_brand`: a push item for a brand this gateway does not serve (config `iys.brands`).
 */
export type DeadLetterReason = 'future_date' | 'invalid_field' | 'unkeyable' | 'unknown_brand';
export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = ['future_date', 'invalid_field', 'unkeyable', 'unknown_brand'];

/** A movement that cannot be applied: its reason, the field at fault and a message. */
export interface MovementRefusal { reason: DeadLetterReason; field: string; message: string }

/** Clock skew allowed between İYS and the gateway for dates of an ONAY (ms). */
export const FUTURE_SKEW_MS = 10 * 60_000;

const STATUS_ALIASES: Readonly<Record<string, 'ONAY' | 'RET'>> = {
  ONAY: 'ONAY', ON: 'ONAY', APPROVE: 'ONAY', APPROVED: 'ONAY',
  RET: 'RET', RED: 'RET', REJECT: 'RET', REJECTED: 'RET',
};
const KEY_FIELDS = new Set(['type', 'status', 'recipientType']);
const TYPES = new Set<string>(CONSENT_TYPES);
const RTYPES = new Set<string>(RECIPIENT_TYPES);
const SOURCES = new Set<string>(CONSENT_SOURCES);
/** Dates the mirror's encodings hold (redis-codec.ts: 2010–2074). */
const storable = (d: string): boolean => isIysDate(d) && d >= '2010-01-01 00:00:00' && d < '2075-01-01 00:00:00';

const text = (v: unknown): string | null => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
};

/**
 * Reads one İYS movement for `brandCode` (pull page item or push item).
 *
 * Rules (issue 12 item 4: a refusal from İYS is never skipped):
 * 1. A movement that passes the file import's rules (movement-rules.ts, dates up to the gateway's
 *    now + {@link FUTURE_SKEW_MS}) is returned as is (recipient normalized, `+9005…` kept as
 *    `noncanonical`, C01).
 * 2. A RET that fails them but can still be keyed (type, recipientType, recipient, in any spelling
 *    İYS or a legacy system uses: case, `RED`/`REJECT` C10, numbers as text) is returned anyway,
 *    whatever its dates: it blocks. Unreadable fields are dropped (source → null, bad transactionId
 *    → null); a BIREYSEL RET without a readable consentDate takes its creationDate, else the
 *    gateway's now, so it is not outranked by the ONAY it revokes (a date before 2015-05-01, H156,
 *    counts as unreadable). A RET dated in the future keeps
 *    its date (İYS's own; it blocks until a later movement).
 * 3. Anything else is refused with a {@link MovementRefusal}: the caller dead-letters it with the
 *    raw content (dead-letters.ts) and retries it later.
 * @param nowMs the gateway's clock (epoch ms)
 */
export function readIysMovement(brandCode: number, m: RawIysMovement, nowMs = Date.now()): Movement | MovementRefusal {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return { reason: 'unkeyable', field: 'item', message: 'the item is not an object' };
  const f: Record<string, string> = {};
  let badType: string | null = null;
  for (const k of ['recipient', 'type', 'status', 'recipientType', 'source', 'consentDate', 'creationDate', 'transactionId'] as const) {
    const v = text(m[k]);
    if (v === null) { badType ??= k; f[k] = ''; } else f[k] = v;
  }
  const latest = formatIysDate(new Date(nowMs + FUTURE_SKEW_MS));
  if (badType === null) {
    const r = movementFromFields(brandCode, { ...(f as Omit<MovementFields, 'retailerCode' | 'retailerAccess'>), retailerCode: '', retailerAccess: '' }, latest, 'daily');
    if (!('field' in r)) return r;
    const ret = lenientRet(brandCode, f, nowMs);
    if (ret) return ret;
    if (r.recipient || KEY_FIELDS.has(r.field)) return { reason: 'unkeyable', field: r.field, message: r.message };
    const future = (r.field === 'consentDate' || r.field === 'creationDate') && f[r.field]! > latest && isIysDate(f[r.field]!);
    return { reason: future ? 'future_date' : 'invalid_field', field: r.field, message: r.message };
  }
  const ret = lenientRet(brandCode, f, nowMs);
  if (ret) return ret;
  return { reason: KEY_FIELDS.has(badType) || badType === 'recipient' ? 'unkeyable' : 'invalid_field', field: badType, message: `${badType} is not text` };
}

/** Rule 2 of {@link readIysMovement}: the RET as far as it can be keyed, or null. */
function lenientRet(brandCode: number, f: Record<string, string>, nowMs: number): Movement | null {
  if (STATUS_ALIASES[f.status!.trim().toUpperCase()] !== 'RET') return null;
  const type = f.type!.trim().toUpperCase();
  const rt = f.recipientType!.trim().toUpperCase() || 'BIREYSEL';
  if (!TYPES.has(type) || !RTYPES.has(rt)) return null;
  const raw = f.recipient!.trim();
  if (raw === '') return null;
  const n = normalizeIysRecipient(raw, raw.includes('@') ? 'EPOSTA' : type === 'EPOSTA' ? 'ARAMA' : (type as ConsentType));
  if (!n.ok) return null;
  const source = f.source!.trim().toUpperCase();
  const creationDate = storable(f.creationDate!) ? f.creationDate! : null;
  // a consentDate before İYS began (H156) is no date at all: it would let the ONAY outrank the RET
  let consentDate = storable(f.consentDate!) && f.consentDate! >= IYS_EPOCH ? f.consentDate! : null;
  if (consentDate === null && rt === 'BIREYSEL') consentDate = creationDate ?? formatIysDate(new Date(nowMs));
  const tx = f.transactionId!;
  return {
    brandCode, recipient: n.canonical, recipientType: rt as RecipientType, type: type as ConsentType, status: 'RET',
    source: SOURCES.has(source) ? (source as ConsentSource) : null, consentDate, creationDate,
    transactionId: tx !== '' && tx.length <= 128 && /^[0-9A-Za-z-]+$/.test(tx) ? tx : null, noncanonical: n.noncanonical,
  };
}

/**
 * İYS movement → mirror Movement, or `{ error }` naming the field at fault (compatibility wrapper
 * over {@link readIysMovement}; new callers use that and dead-letter the refusal).
 */
export function fromIysMovement(brandCode: number, m: RawIysMovement, nowMs = Date.now()): Movement | { error: string } {
  const r = readIysMovement(brandCode, m, nowMs);
  return 'reason' in r ? { error: r.field } : r;
}
