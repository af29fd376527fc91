/**
 * İYS vocabulary shared by every layer. Values are spelled exactly as İYS spells them
 * (İYS API v3.2.0, components `ConsentType`, `ConsentStatus`, `RecipientType`, `ConsentSource`).
 */

/** Channel of a consent: SMS/text (`MESAJ`), voice call (`ARAMA`), e-mail (`EPOSTA`). */
export const CONSENT_TYPES = ['MESAJ', 'ARAMA', 'EPOSTA'] as const;
export type ConsentType = (typeof CONSENT_TYPES)[number];

/** Consent status: `ONAY` (approval) or `RET` (refusal). İYS rejects anything else (H115). */
export const CONSENT_STATUSES = ['ONAY', 'RET'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/** Recipient capacity: `BIREYSEL` (individual, opt-in) or `TACIR` (merchant, opt-out). */
export const RECIPIENT_TYPES = ['BIREYSEL', 'TACIR'] as const;
export type RecipientType = (typeof RECIPIENT_TYPES)[number];

/** Kind of message being sent: commercial (needs consent) or informational (exempt). */
export const MESSAGE_TYPES = ['TICARI', 'BILGILENDIRME'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Sources a service provider may declare (DOMAIN.md §5; HS_KARAR only with RET, H408). */
export const HS_SOURCES = [
  'HS_2015', 'HS_FIZIKSEL_ORTAM', 'HS_ISLAK_IMZA', 'HS_ETKINLIK', 'HS_ATM', 'HS_EORTAM', 'HS_WEB',
  'HS_MOBIL', 'HS_MESAJ', 'HS_EPOSTA', 'HS_CAGRI_MERKEZI', 'HS_SOSYAL_MEDYA', 'HS_KARAR',
] as const;
/** Sources only İYS itself writes (never sent by a provider). */
export const IYS_SOURCES = [
  'IYS_KISAMESAJ', 'IYS_CM', 'IYS_WEB', 'IYS_WEB_YENI', 'IYS_MOBIL', 'IYS_EPOSTA',
  'IYS_AHS_HAT_KAPATMA', 'IYS_FRAME_EPOSTA', 'IYS_FRAME_SMS',
] as const;
export const CONSENT_SOURCES = [...HS_SOURCES, ...IYS_SOURCES] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/** Decision of the gateway for one recipient. */
export const DECISIONS = ['ALLOW', 'BLOCK'] as const;
export type Decision = (typeof DECISIONS)[number];

/** Reason codes of a decision (API.md `/v1/check`). New reasons may be added, never renamed. */
export const REASONS = [
  'CONSENT_ONAY', 'CONSENT_RET', 'NO_CONSENT', 'INFORMATIONAL_EXEMPT', 'TACIR_NOT_REJECTED',
  'NOT_SMS_CAPABLE', 'RECIPIENT_NOT_REGISTRABLE', 'RETAILER_NOT_ALLOWED', 'MIRROR_STALE',
  'STORE_UNAVAILABLE', 'INVALID_RECIPIENT', 'CONSENT_RECIPIENT_NONCANONICAL',
  'BIREYSEL_RET_TACIR_UNPROVEN',
] as const;
export type Reason = (typeof REASONS)[number];

/**
 * The key of a consent record: all four parts, always (DOMAIN.md §2).
 * `recipient` is canonical: E.164 with `+` for phones, folded ASCII form for e-mail.
 */
export interface ConsentKey {
  brandCode: number;
  recipientType: RecipientType;
  type: ConsentType;
  recipient: string;
}

/**
 * One movement (a state change of one key) as İYS reports it or as the company collected it.
 * Dates are `YYYY-MM-DD HH:mm:ss` Turkish time; TACIR records may carry null source and
 * consentDate (field case C08).
 */
export interface Movement extends ConsentKey {
  status: ConsentStatus;
  source: ConsentSource | null;
  consentDate: string | null;
  /** İYS's creationDate; null for a movement not yet registered in İYS. */
  creationDate: string | null;
  transactionId: string | null;
  /**
   * True when İYS holds the number in a non-canonical form (`+9005…`, field case C01): such an
   * ONAY never counts as consent; such a RET still blocks.
   */
  noncanonical?: boolean;
  /** Dealer codes allowed to use this consent (İYS `retailerAccess`); undefined/null = none. */
  retailerAccess?: number[] | null;
  /** Dealer that mediated the consent (İYS `retailerCode`). */
  retailerCode?: number | null;
}

/** The current record of a key: the newest movement by the ordering of consent-order.ts. */
export type ConsentRecord = Movement;
