import { applyPromotionalPolicy, type PromotionalOutcome, type PromotionalPolicy } from '../domain/promo-lint.ts';
import type { ConsentType, MessageType, RecipientType } from '../domain/types.ts';
import type { BatchResult, CheckService } from './check-service.ts';
import type { RemovedRecipient } from './removal-reports.ts';

/**
 * The doors of the gate: where a message entered. Bounded set (used as a metric label and in the
 * decision log). `check`/`batch`/`scrub` only ask; the others forward what is allowed.
 */
export const ENTRANCES = ['check', 'batch', 'scrub', 'send', 'proxy', 'smtp', 'smpp', 'inbound', 'dialer', 'agi'] as const;
export type Entrance = (typeof ENTRANCES)[number];

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
}

/**
 * The one screening of the gate: the promotional policy on the message's texts, then ONE batched
 * consent decision for all its recipients (CheckService.checkBatch, same policy as /v1/check).
 * Pure of transport: each door maps `keep`/`removed` back to its protocol (rewrite a provider body,
 * answer RCPT with 550, list `unsuccess_sme`, refuse the originate…).
 * Never throws for bad recipients: they come back as `BLOCK INVALID_RECIPIENT` (or another reason)
 * in `results`; a store that cannot answer fails closed (`STORE_UNAVAILABLE`, CheckService).
 */
export async function screenOutbound(checks: CheckService, msg: OutboundMessage, opts: ScreenOptions): Promise<MessageScreening> {
  const promo = applyPromotionalPolicy(msg.messageType, msg.texts as string[], opts.policy, msg.unseenText);
  const undeclarable = promo.action === 'treat-as-commercial' && opts.canDeclareCommercial !== undefined && !opts.canDeclareCommercial();
  if (promo.action === 'block' || undeclarable) {
    return { promo, checkedMessageType: msg.messageType, refused: true, results: [], keep: msg.recipients.map(() => false), removed: [], allowed: 0 };
  }
  const { results } = await checks.checkBatch({
    brandCode: msg.brandCode, type: msg.type, recipientType: msg.recipientType, messageType: promo.messageType,
  }, msg.recipients);
  const keep = new Array<boolean>(results.length);
  const removed: RemovedRecipient[] = [];
  let allowed = 0;
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    keep[i] = r.decision === 'ALLOW';
    if (keep[i]) allowed++;
    else removed.push({ index: i, input: r.input, recipient: r.recipient, reason: r.reason });
  }
  return { promo, checkedMessageType: promo.messageType, refused: false, results, keep, removed, allowed };
}
