import { checkCommercialContent, type ContentMissing } from '../domain/content-check.ts';
import { applyPromotionalPolicy, type PromoLintResult, type PromotionalOutcome, type PromotionalPolicy } from '../domain/promo-lint.ts';
import type { ConsentType, MessageType, RecipientType } from '../domain/types.ts';
import type { BatchResult, CheckService } from './check-service.ts';
import type { RemovedRecipient } from './removal-reports.ts';

import { normalizeRecipient } from '../domain/recipient.ts';
import type { RecordContext } from './decision-log/decision-log.ts';
import type { LintVerdict } from './decision-log/record-format.ts';
import { FORWARDING_ENTRANCES, type Entrance } from './entrances.ts';

export { ENTRANCES, FORWARDING_ENTRANCES, type Entrance } from './entrances.ts';

/**
 * One outgoing message in transport-neutral form: what every door (HTTP proxy, /v1/send, SMTP,
 * SMPP, dialers, AGI) turns its protocol into before screening. The door keeps its own wire form
 * and rewrites it from the screening's `keep` flags.
 */
export interface OutboundMessage {
  /** The door it came through. */
  entrance: Entrance;
  /** Which instance of the door: upstream name, SMTP listener, SMPP bind's system_id; for logs and reports. */
  via: string;
  brandCode: number;
  type: ConsentType;
  recipientType: RecipientType;
  /** The message type the sender declared (before the promotional policy). */
  messageType: MessageType;
  /** Recipients as written, in order; one decision (and one `keep` flag) per entry. */
  recipients: readonly string[];
  /** Texts the promotional lint reads (SMS texts, e-mail subject and body text, TTS text). */
  texts: readonly string[];
  /**
   * Set when part of the text is not available to the gate (a provider-side template): a short
   * reason. The promotional policy then treats the message as promotional (domain/promo-lint.ts).
   */
  unseenText?: string | undefined;
  /** Name of the API key (or provider user) the message came with, for the decision log. Default ''. */
  keyName?: string | undefined;
  /**
   * The promotional lint of the WHOLE message when it is screened in batches (a streamed
   * campaign list: PromoLintAccumulator over every text of the list), so every batch gets the
   * message's verdict; `texts` then hold the batch's texts, read by the content check only.
   */
  lint?: PromoLintResult | undefined;
}

/** What screening one message decided. */
export interface MessageScreening {
  promo: PromotionalOutcome;
  /** Message type the consent check used (TICARI when a promotional BILGILENDIRME was re-classified). */
  checkedMessageType: MessageType;
  /** True when the promotional policy (`block`, or a door that cannot declare the message commercial) refused the whole message: nothing is checked or sent. */
  refused: boolean;
  /** One decision per recipient, in order; empty when `refused`. */
  results: BatchResult[];
  /** One flag per recipient: allowed (to be forwarded) or not. */
  keep: boolean[];
  /** Recipients not allowed, in request order, with their reason. */
  removed: RemovedRecipient[];
  /** Number of `keep` flags that are true. */
  allowed: number;
  /**
   * Request-level id of the message's records in the decision log (answer it as
   * `X-IYS-Gate-Decision-Id` or in the protocol's reply); null when the log is off for this entrance.
   * For a forwarding entrance the records are on disk when screenOutbound resolves.
   */
  decisionId: string | null;
  /** Sequence of the request in the decision log (for `noteOutcome`), or null. */
  decisionSeq: number | null;
  /**
   * The commercial content check (checks.contentCheck, domain/content-check.ts) of a message
   * checked as TICARI: what its text lacks; null when not run (off, not TICARI, nothing missing).
   * `blocked` (policy `block`) means `refused` too. Doors answer `X-IYS-Gate-Content: missing=…`.
   */
  content: { missing: ContentMissing[]; blocked: boolean } | null;
}

/** Options of `screenOutbound`. */
export interface ScreenOptions {
  /** Promotional policy for BILGILENDIRME text that reads as promotional (config `policy.promotionalInformational` or the door's own). */
  policy: PromotionalPolicy;
  /**
   * Asked only when the policy re-classifies an informational message as commercial
   * (`treat-as-commercial`): false when this door cannot tell its upstream the message is
   * commercial (e.g. a Netgsm OTP request), which refuses the whole message as `block` would.
   */
  canDeclareCommercial?: () => boolean;
  /**
   * `later`: a forwarding door that decides before it forwards (SMTP decides each recipient at
   * RCPT TO and forwards only after DATA) does not wait for the decision log's group commit here;
   * it must `await checks.decisions?.commit()` before it forwards. Default: wait here.
   */
  commit?: 'now' | 'later';
}

/**
 * The one screening of the gate: the promotional policy on the message's texts, then ONE batched
 * consent decision for all its recipients (CheckService.checkBatch, same policy as /v1/check).
 * Pure of transport: each door maps `keep`/`removed` back to its protocol (rewrite a provider body,
 * answer RCPT with 550, list `unsuccess_sme`, refuse the originate…).
 * Never throws for bad recipients: they come back as `BLOCK INVALID_RECIPIENT` (or another reason)
 * in `results`; a store that cannot answer fails closed (`STORE_UNAVAILABLE`, CheckService).
 *
 * Every decision is recorded in the decision log (`checks.decisions`, README "Proving decisions"):
 * for a forwarding entrance (FORWARDING_ENTRANCES) screenOutbound waits for the group commit, so
 * what the door forwards after it resolves has its record on disk; a refused message is recorded
 * as `BLOCK PROMOTIONAL_REFUSED` per recipient.
 * @throws GW_ERR_DECISION_LOG_UNAVAILABLE (503) when the log cannot write: the door must not forward
 */
export async function screenOutbound(checks: CheckService, msg: OutboundMessage, opts: ScreenOptions): Promise<MessageScreening> {
  const promo = applyPromotionalPolicy(msg.messageType, msg.texts as string[], opts.policy, msg.unseenText, msg.lint);
  const undeclarable = promo.action === 'treat-as-commercial' && opts.canDeclareCommercial !== undefined && !opts.canDeclareCommercial();
  const content = contentOf(checks, msg, promo.messageType);
  const log = checks.decisions;
  const forwarding = FORWARDING_ENTRANCES.has(msg.entrance);
  const rec: RecordContext | undefined = log && (log.mode === 'all' || forwarding) ? {
    entrance: msg.entrance, via: msg.via, keyName: msg.keyName ?? '', declaredMessageType: msg.messageType,
    lint: lintVerdict(promo, undeclarable),
  } : undefined;
  if (promo.action === 'block' || undeclarable || content?.blocked) {
    const why = promo.action === 'block' || undeclarable ? 'PROMOTIONAL_REFUSED' : 'CONTENT_REFUSED';
    let decisionId: string | null = null; let decisionSeq: number | null = null;
    if (log && rec) {
      log.assertWritable();
      decisionSeq = log.newSeq();
      const ctx = { ...rec, contextId: log.contextId(rec.keyName, rec.via) };
      const t = Date.now(); const asOfMs = checks.freshAt ?? 0;
      const req = { brandCode: msg.brandCode, type: msg.type, recipientType: msg.recipientType, messageType: msg.messageType };
      msg.recipients.forEach((input, i) => {
        const n = normalizeRecipient(input, msg.type);
        log.record(ctx, decisionSeq!, i, t, asOfMs, req, 'BLOCK', why, null, n.ok ? n.canonical : null, input);
      });
      decisionId = log.idOf(decisionSeq);
      if (forwarding && opts.commit !== 'later') await log.commit();
    }
    return { promo, checkedMessageType: msg.messageType, refused: true, results: [], keep: msg.recipients.map(() => false), removed: [], allowed: 0, decisionId, decisionSeq, content };
  }
  const { results, decisionId } = await checks.checkBatch({
    brandCode: msg.brandCode, type: msg.type, recipientType: msg.recipientType, messageType: promo.messageType,
  }, msg.recipients, rec);
  if (log && rec && forwarding && opts.commit !== 'later') await log.commit();
  const keep = new Array<boolean>(results.length);
  const removed: RemovedRecipient[] = [];
  let allowed = 0;
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    keep[i] = r.decision === 'ALLOW';
    if (keep[i]) allowed++;
    else removed.push({ index: i, input: r.input, recipient: r.recipient, reason: r.reason });
  }
  return { promo, checkedMessageType: promo.messageType, refused: false, results, keep, removed, allowed, decisionId: decisionId ?? null, decisionSeq: rec?.seq ?? null, content };
}

/**
 * The commercial content check alone (checks.contentCheck, domain/content-check.ts), for a door
 * that decided its recipients before it held the text: the SMTP relay decides a TICARI key's
 * recipients at RCPT TO and reads Subject + first text part only at DATA. Same rule, metric and
 * policy as inside screenOutbound (issue 14 "Outgoing commercial content check").
 * @returns what the text lacks and whether policy `block` refuses it; null when off, not TICARI, no text, or complete
 */
export function screenContent(checks: CheckService, msg: Pick<OutboundMessage, 'entrance' | 'brandCode' | 'texts'>, messageType: MessageType): MessageScreening['content'] {
  return contentOf(checks, msg, messageType);
}

/** The commercial content check of a message checked as `messageType` (null: off, not TICARI, or complete). */
function contentOf(checks: CheckService, msg: Pick<OutboundMessage, 'entrance' | 'brandCode' | 'texts'>, messageType: MessageType): MessageScreening['content'] {
  const cc = checks.contentCheck;
  if (!cc || cc.mode === 'off' || messageType !== 'TICARI' || msg.texts.length === 0) return null;
  const missing = checkCommercialContent(msg.texts, cc.identities.get(msg.brandCode));
  if (missing.length === 0) return null;
  cc.onMissing?.(msg.entrance, missing);
  return { missing, blocked: cc.mode === 'block' };
}

/** The lint verdict a record stores. */
function lintVerdict(promo: PromotionalOutcome, undeclarable: boolean): LintVerdict {
  if (undeclarable) return 'undeclarable';
  if (promo.lint === null) return 'not-run';
  return promo.action;
}
