/**
 * Wire types of the İYS API operations the client uses (İYS OpenAPI 3.2.0, components and
 * operation schemas named below). Dates are `YYYY-MM-DD HH:mm:ss` Turkish time.
 */
import type { ConsentStatus, ConsentType, RecipientType } from '../domain/types.ts';
import type { ConsentInput } from './consent-rules.ts';
import type { IysErrorItem } from './h-codes.ts';

export type { ConsentInput } from './consent-rules.ts';
export type { IysErrorItem, IysErrorEnvelope } from './h-codes.ts';

/** `Oauth2Response` of `POST /oauth2/token`; lifetimes in seconds (7200 / 14400). */
export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_expires_in: number;
  token_type: string;
}

/** `AddConsentResponseMessage`: answer of a single write. */
export interface AddConsentResult {
  /** 64 hex characters; the same id the pull feed and the daily file show. */
  transactionId: string;
  creationDate: string;
}

/** `MultipleConsentsSubRequests` item of a batch submit's 202 answer. */
export interface BatchSubRequest {
  subrequestId: string;
  type: ConsentType;
  source?: string;
  recipient: string;
  status: ConsentStatus;
  consentDate?: string;
  recipientType: RecipientType;
  creationDate: string;
}

/** `AddMultipleConsentResponse` plus what the client collapsed locally (C11). */
export interface BatchSubmitResult {
  /** UUID-like id to poll with (no earlier than 300 s). */
  requestId: string;
  subRequests: BatchSubRequest[];
  /** Indexes of the caller's items dropped as older repeats of the same key (H194 avoided). */
  dropped: number[];
}

/** `SearchConsentResponse(V2)` item of a batch result. */
export interface BatchItemResult {
  index: number;
  status: 'success' | 'failure' | 'enqueue';
  subrequestId: string;
  requestId: string;
  transactionId?: string;
  creationDate?: string;
  error?: { code: string; message: string };
  isAddConsentV2Service?: boolean;
  originalRequestInformation?: { requestId: string; subRequestId: string };
}

/** The key part of status and history queries (`ConsentDetailRequest`). */
export interface ConsentKeyQuery {
  recipient: string;
  recipientType: RecipientType;
  type: ConsentType;
}

/** The fields İYS returns for every consent record, current or past. */
export interface IysConsentFields {
  consentDate?: string;
  creationDate: string;
  source?: string;
  recipient: string;
  recipientType: RecipientType;
  status: ConsentStatus;
  type: ConsentType;
  transactionId: string;
}

/** `ConsentDetailResponse`: the current record of a key. */
export interface ConsentStatusResult extends IysConsentFields {
  retailerAccessCount?: number;
  retailerTitle?: string;
  retailerCode?: number;
}

/** One movement of the pull feed / history (`AgreementPull.list` item). */
export interface IysMovement extends IysConsentFields {
  citizenName?: string;
}

/** `AgreementPull`: a page of the changes feed. */
export interface PullPage {
  /** Opaque cursor to send as `after` next time; store it. */
  after: string;
  list: IysMovement[];
}

/** Answer of the history query. */
export interface HistoryPage {
  list: IysMovement[];
  pagination: { offset: number; pageSize: number; totalCount: number };
}

/** One push connection (`push/registration` body item). */
export interface PushConnection {
  url: string;
  type: ConsentType;
  username: string;
  password: string;
}

/** `AgreementDateResponse`. */
export interface AgreementInfo {
  processStatus: 'queued' | 'inprogress' | 'completed' | 'error';
  hashValue?: string;
  hashMethod?: string;
  agreementStatus: boolean;
}

/** `DailyChangeSummaryResponse`. */
export interface ChangeSummary {
  changeStats: { type: ConsentType; consents: { source: 'HS' | 'IYS'; approval: number; rejection: number; pending: number; total: number }[] }[];
}

/** get-subscription answer. */
export interface SubscriptionInfo {
  startDate: string;
  expirationDate: string;
  subscriptionPackageName: string;
  status: 'ACTIVE' | 'PAUSED' | 'EXPIRED' | 'CLOSED';
  consentLimit: number;
  usedConsentLimit: number;
  consentLimitExceed: boolean;
  subscriptionId?: string;
}

/** getBrandsDetails item. */
export interface BrandInfo {
  brandCode: number;
  name: string;
  master: boolean;
  stats?: { consents: { approval: number; rejection: number; total: number }; retailers: { total: number } };
}

/** Outcome of reporting a refusal (field case C05). */
export type RefusalOutcome =
  | { outcome: 'registered'; transactionId: string; creationDate: string }
  /** H174: the key is already RET in İYS — success, nothing to do. */
  | { outcome: 'already_refused'; code: 'H174' }
  /** H175: İYS has no record of the key — nothing to revoke (local suppression still applies). */
  | { outcome: 'nothing_to_revoke'; code: 'H175' };

/** A batch result split by outcome (field case C11). */
export interface BatchOutcome {
  succeeded: { index: number; transactionId: string; creationDate?: string }[];
  failed: { index: number; code: string; message: string }[];
  /** Indexes still `enqueue`: poll again later. */
  pending: number[];
  /** True when İYS answered an empty list (not processed yet; not a failure). */
  notReady: boolean;
}

export type { ConsentStatus, ConsentType, RecipientType };
/** Re-exported for callers building error handling. */
export type IysErrors = IysErrorItem[];
export type ConsentBody = ConsentInput;
