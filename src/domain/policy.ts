import type { ConsentRecord, ConsentType, Decision, MessageType, Reason, RecipientType } from './types.ts';

/** Policy switches of the decision engine (config key `policy`). */
export interface PolicyOptions {
  /**
   * TICARI to a TACIR recipient with no record: `allow` (default; merchants are opt-out,
   * Law 6563 art. 6(1)(a) as amended, DOMAIN.md §1.5) or `block` (a stricter company rule).
   * Never falls back to the BIREYSEL record (field case C08).
   */
  tacirWithoutRecord: 'allow' | 'block';
  /**
   * TICARI to a recipient declared TACIR that has no TACIR record but whose BIREYSEL record (same
   * brand, type, address) is RET: `block` (default when absent; reason
   * `BIREYSEL_RET_TACIR_UNPROVEN`: an individual who refused is not turned into a merchant by a
   * sender's flag, Law 6563 art. 6(1)(a) covers merchants only, issue 10 item 4) or `allow` (the
   * flag is trusted: `TACIR_NOT_REJECTED`). Applies only where `tacirWithoutRecord` would allow;
   * an existing TACIR record always decides (C08).
   */
  tacirOverBireyselRet?: 'block' | 'allow';
}

export const DEFAULT_POLICY: PolicyOptions = { tacirWithoutRecord: 'allow', tacirOverBireyselRet: 'block' };

/**
 * True when a TACIR check must also read the BIREYSEL record of the same address (TICARI to
 * TACIR under `tacirWithoutRecord: allow` and `tacirOverBireyselRet: block`): the caller looks it
 * up in the same batched read and passes it as `DecisionInput.bireyselRecord`.
 */
export function needsBireyselRecord(recipientType: RecipientType, messageType: MessageType, policy: PolicyOptions = DEFAULT_POLICY): boolean {
  return recipientType === 'TACIR' && messageType === 'TICARI' && policy.tacirWithoutRecord === 'allow'
    && (policy.tacirOverBireyselRet ?? 'block') === 'block';
}

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
  /**
   * TACIR checks only (see `needsBireyselRecord`): the BIREYSEL record of the same brand, type
   * and address, null when none, `'unavailable'` when the store could not answer. `undefined`
   * (not looked up) counts as unknown where the policy needs it: fail closed, STORE_UNAVAILABLE.
   */
  bireyselRecord?: PolicyRecord | null | 'unavailable' | undefined;
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
const BLOCK_TACIR_UNPROVEN = r('BLOCK', 'BIREYSEL_RET_TACIR_UNPROVEN');
const BLOCK_UNAVAILABLE = r('BLOCK', 'STORE_UNAVAILABLE');

/**
 * The decision table of DOMAIN.md §2, fail-closed for TICARI. Pure and synchronous.
 *
 * Order: informational → ALLOW (exempt whatever the record says; the promotional-content check
 * is the caller's); then recipient capability (NOT_SMS_CAPABLE, RECIPIENT_NOT_REGISTRABLE); then
 * store availability (STORE_UNAVAILABLE) and freshness (MIRROR_STALE); then the record:
 * RET → BLOCK; ONAY held in İYS's non-canonical `+9005…` form → BLOCK
 * CONSENT_RECIPIENT_NONCANONICAL (C01); ONAY with a dealer asking that is not in
 * `retailerAccess` nor the mediating dealer → RETAILER_NOT_ALLOWED; ONAY → ALLOW; none →
 * BIREYSEL BLOCK NO_CONSENT, TACIR per `tacirWithoutRecord`, then (when that allows) per
 * `tacirOverBireyselRet`: a BIREYSEL RET of the same address blocks as BIREYSEL_RET_TACIR_UNPROVEN.
 */
export function decide(input: DecisionInput, policy: PolicyOptions = DEFAULT_POLICY): DecisionResult {
  if (input.messageType === 'BILGILENDIRME') return EXEMPT;
  if (input.type === 'MESAJ' && !input.smsCapable) return r('BLOCK', 'NOT_SMS_CAPABLE');
  if (!input.registrable) return r('BLOCK', 'RECIPIENT_NOT_REGISTRABLE');
  const rec = input.record;
  if (rec === 'unavailable') return BLOCK_UNAVAILABLE;
  if (input.stale) return r('BLOCK', 'MIRROR_STALE');
  if (rec === null) {
    if (input.recipientType !== 'TACIR' || policy.tacirWithoutRecord !== 'allow') return BLOCK_NONE;
    if ((policy.tacirOverBireyselRet ?? 'block') === 'allow') return ALLOW_TACIR;
    const ind = input.bireyselRecord;
    if (ind === undefined || ind === 'unavailable') return BLOCK_UNAVAILABLE;
    return ind !== null && ind.status === 'RET' ? BLOCK_TACIR_UNPROVEN : ALLOW_TACIR;
  }
  if (rec.status === 'RET') return BLOCK_RET;
  if (rec.noncanonical) return r('BLOCK', 'CONSENT_RECIPIENT_NONCANONICAL');
  const dealer = input.retailerCode;
  if (dealer != null && rec.retailerCode !== dealer && !(rec.retailerAccess ?? []).includes(dealer)) {
    return r('BLOCK', 'RETAILER_NOT_ALLOWED');
  }
  return ALLOW_ONAY;
}
