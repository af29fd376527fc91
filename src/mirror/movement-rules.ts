import { normalizeIysRecipient } from '../domain/recipient.ts';
import { isIysDate } from '../domain/turkish-time.ts';
import {
  CONSENT_SOURCES, CONSENT_STATUSES, CONSENT_TYPES, RECIPIENT_TYPES,
  type ConsentSource, type ConsentStatus, type ConsentType, type Movement, type RecipientType,
} from '../domain/types.ts';
import { IYS_EPOCH } from '../iys/consent-rules.ts';

/** A movement's fields as text, as an İYS file row, feed page or push body carries them ('' = absent). */
export interface MovementFields {
  recipient: string; type: string; status: string; recipientType: string; source: string;
  consentDate: string; creationDate: string; transactionId: string; retailerCode: string; retailerAccess: string;
}

/** Why a movement was refused: the field, a message, and whether the recipient is at fault. */
export interface MovementIssue { field: string; message: string; recipient?: true }

const TYPE_SET = new Set<string>(CONSENT_TYPES);
const STATUS_SET = new Set<string>(CONSENT_STATUSES);
const RT_SET = new Set<string>(RECIPIENT_TYPES);
const SOURCE_SET = new Set<string>(CONSENT_SOURCES);
/** Letters, digits or dashes only (`/^[0-9A-Za-z-]*$/` without the regex: it ran for every imported row). */
function txChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 45)) return false;
  }
  return true;
}
const INT_RE = /^\d{1,12}$/;

const issue = (field: string, message: string): MovementIssue => ({ field, message });

/**
 * The one rule set for records that come from İYS into the mirror (file import, pull feed, push):
 * values İYS never produces are refused, so they cannot outrank real movements. Enums as İYS spells
 * them; BIREYSEL records carry source and consentDate (TACIR may not, C08); dates in
 * `YYYY-MM-DD HH:mm:ss` Turkish time, not after `latest` (H162: a future date would outrank every
 * later refusal), not before 2015-05-01 (H156), exactly that date for HS_2015 (H155); HS_KARAR only
 * with RET (H408); İYS-side sources never in the upload layout; transactionId ≤ 128 letters,
 * digits or dashes; the recipient normalized by shape (İYS files hold phones under EPOSTA too), a
 * `+9005…` form kept as `noncanonical` (C01), an address İYS cannot register refused (H120).
 * @param latest the latest acceptable date (now + allowed skew, `YYYY-MM-DD HH:mm:ss` Turkish time)
 * @returns the movement, or the first issue found
 */
export function movementFromFields(brandCode: number, f: MovementFields, latest: string, layout: 'daily' | 'upload'): Movement | MovementIssue {
  const { type, status, source, consentDate, creationDate, transactionId: tx } = f;
  if (!TYPE_SET.has(type)) return issue('type', `type must be one of ${CONSENT_TYPES.join('|')}`);
  if (!STATUS_SET.has(status)) return issue('status', 'status must be ONAY or RET');
  const recipientType = f.recipientType || 'BIREYSEL';
  if (!RT_SET.has(recipientType)) return issue('recipientType', 'recipientType must be BIREYSEL or TACIR');
  if (source !== '' && !SOURCE_SET.has(source)) return issue('source', 'unknown source');
  if (source === '' && recipientType !== 'TACIR') return issue('source', 'source is required for BIREYSEL records');
  if (layout === 'upload' && source.startsWith('IYS_')) return issue('source', 'İYS-side sources (IYS_*) never appear in the upload layout');
  if (source === 'HS_KARAR' && status !== 'RET') return issue('status', 'HS_KARAR is only used with RET (H408)');
  if (consentDate !== '' && !isIysDate(consentDate)) return issue('consentDate', 'consentDate must be YYYY-MM-DD HH:mm:ss');
  if (consentDate === '' && recipientType !== 'TACIR') return issue('consentDate', 'consentDate is required for BIREYSEL records');
  if (consentDate !== '') {
    if (consentDate > latest) return issue('consentDate', 'consentDate is in the future (H162): a future date would outrank every later refusal');
    if (consentDate < IYS_EPOCH) return issue('consentDate', 'consentDate before 2015-05-01 00:00:00 (H156)');
    if (source === 'HS_2015' && consentDate !== IYS_EPOCH) return issue('consentDate', 'HS_2015 consents carry exactly 2015-05-01 00:00:00 (H155)');
  }
  if (creationDate !== '' && !isIysDate(creationDate)) return issue('creationDate', 'creationDate must be YYYY-MM-DD HH:mm:ss');
  if (creationDate > latest) return issue('creationDate', 'creationDate is in the future');
  if (tx.length > 128 || !txChars(tx)) return issue('transactionId', 'transactionId must be up to 128 letters, digits or dashes');
  const raw = f.recipient;
  const n = normalizeIysRecipient(raw, raw.includes('@') ? 'EPOSTA' : type === 'EPOSTA' ? 'ARAMA' : (type as ConsentType));
  if (!n.ok) return { field: 'recipient', message: n.message, recipient: true };
  if (!n.registrable) return { field: 'recipient', message: 'address İYS cannot register (H120)', recipient: true };
  const m: Movement = {
    brandCode, recipient: n.canonical, recipientType: recipientType as RecipientType, type: type as ConsentType,
    status: status as ConsentStatus, source: (source || null) as ConsentSource | null,
    consentDate: consentDate || null, creationDate: creationDate || null,
    transactionId: tx || null, noncanonical: n.noncanonical,
  };
  if (f.retailerCode !== '') {
    if (!INT_RE.test(f.retailerCode)) return issue('retailerCode', 'retailerCode must be an integer');
    m.retailerCode = Number(f.retailerCode);
  }
  if (f.retailerAccess !== '') {
    const list = f.retailerAccess.split(/[;|\s]+/).filter(Boolean);
    if (!list.every((x) => INT_RE.test(x))) return issue('retailerAccess', 'retailerAccess must be integers separated by ; or |');
    m.retailerAccess = list.map(Number);
  }
  return m;
}
