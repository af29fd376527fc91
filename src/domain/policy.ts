import type { ConsentRecord, ConsentType, Decision, MessageType, Reason, RecipientType } from './types.ts';

/** Policy switches of the decision engine (config key `policy`). */
export interface PolicyOptions {
  /**
   * TICARI to a TACIR recipient with no record: `allow` (default; merchants are opt-out,
   * Law 6563 art. 6(1)(a) as amended, DOMAIN.md §1.5) or `block` (a stricter company rule).
   * Never falls back to the BIREYSEL record (field case C08).
   */
  tacirWithoutRecord: 'allow' | 'block';
}

export const DEFAULT_POLICY: PolicyOptions = { tacirWithoutRecord: 'allow' };

/** What the policy needs to know about one message. */
export interface DecisionInput {
  type: ConsentType;
  recipientType: RecipientType;
  messageType: MessageType;
  retailerCode?: number | null | undefined;
  /** MESAJ only: whether the canonical number can take SMS (domain/recipient.ts). */
  smsCapable: boolean;
  /** false for an address İYS can never register (e-mail with Turkish letters, H120). */
  registrable: boolean;
  /**
   * The mirror's answer: the current record, null when none, or `'unavailable'` when the store
   * could not answer in time.
   */
  record: PolicyRecord | null | 'unavailable';
  /** True when the mirror is older than the configured freshness bound. */
  stale: boolean;
}

export interface DecisionResult { decision: Decision; reason: Reason }

/** What the policy reads of a record (a full ConsentRecord fits; MemoryStore.peek gives just this). */
export type PolicyRecord = Pick<ConsentRecord, 'status' | 'noncanonical' | 'retailerCode' | 'retailerAccess'>;

// Every answer is one shared frozen object per (decision, reason): no allocation per decision.
const RESULTS = new Map<string, DecisionResult>();
const r = (decision: Decision, reason: Reason): DecisionResult => {
  const k = decision + reason;
  let v = RESULTS.get(k);
  if (!v) { v = Object.freeze({ decision, reason }); RESULTS.set(k, v); }
  return v;
};
const EXEMPT = r('ALLOW', 'INFORMATIONAL_EXEMPT');
const ALLOW_ONAY = r('ALLOW', 'CONSENT_ONAY');
const BLOCK_RET = r('BLOCK', 'CONSENT_RET');
const BLOCK_NONE = r('BLOCK', 'NO_CONSENT');
const ALLOW_TACIR = r('ALLOW', 'TACIR_NOT_REJECTED');

/**
 * The decision table of DOMAIN.md §2, fail-closed for TICARI. Pure and synchronous.
 *
 * Order: informational → ALLOW (exempt whatever the record says; the promotional-content check
 * is the caller's); then recipient capability (NOT_SMS_CAPABLE, RECIPIENT_NOT_REGISTRABLE); then
 * store availability (STORE_UNAVAILABLE) and freshness (MIRROR_STALE); then the record:
 * RET → BLOCK; ONAY held in İYS's non-canonical `+9005…` form → BLOCK
 * CONSENT_RECIPIENT_NONCANONICAL (C01); ONAY with a dealer asking that is not in
 * `retailerAccess` nor the mediating dealer → RETAILER_NOT_ALLOWED; ONAY → ALLOW; none →
 * BIREYSEL BLOCK NO_CONSENT, TACIR per `tacirWithoutRecord`.
 */
export function decide(input: DecisionInput, policy: PolicyOptions = DEFAULT_POLICY): DecisionResult {
  if (input.messageType === 'BILGILENDIRME') return EXEMPT;
  if (input.type === 'MESAJ' && !input.smsCapable) return r('BLOCK', 'NOT_SMS_CAPABLE');
  if (!input.registrable) return r('BLOCK', 'RECIPIENT_NOT_REGISTRABLE');
  const rec = input.record;
  if (rec === 'unavailable') return r('BLOCK', 'STORE_UNAVAILABLE');
  if (input.stale) return r('BLOCK', 'MIRROR_STALE');
  if (rec === null) {
    if (input.recipientType === 'TACIR' && policy.tacirWithoutRecord === 'allow') return ALLOW_TACIR;
    return BLOCK_NONE;
  }
  if (rec.status === 'RET') return BLOCK_RET;
  if (rec.noncanonical) return r('BLOCK', 'CONSENT_RECIPIENT_NONCANONICAL');
  const dealer = input.retailerCode;
  if (dealer != null && rec.retailerCode !== dealer && !(rec.retailerAccess ?? []).includes(dealer)) {
    return r('BLOCK', 'RETAILER_NOT_ALLOWED');
  }
  return ALLOW_ONAY;
}
