import type { CheckService } from '../../check/check-service.ts';
import type { RemovedRecipient } from '../../check/removal-reports.ts';
import { screenOutbound, type Entrance, type MessageScreening } from '../../check/screening.ts';
import type { PromotionalOutcome, PromotionalPolicy } from '../../domain/promo-lint.ts';
import type { MessageType } from '../../domain/types.ts';
import type { ProviderAdapter, ProviderMessage } from './types.ts';

/** What screening one provider message decided, with the body to forward. */
export interface Screening {
  /** The commercial content check's findings (check/screening.ts `content`); null when nothing is missing or not run. */
  content: MessageScreening['content'];
  promo: PromotionalOutcome;
  /** Message type the consent check used. */
  checkedMessageType: MessageType;
  /** True when policy `block` refused the whole message (nothing is checked or sent). */
  refused: boolean;
  /** One flag per `message.recipients` entry: forwarded or not. */
  keep: boolean[];
  /** Recipients not forwarded, in request order, with their reason. */
  removed: RemovedRecipient[];
  /** Body to forward: null = forward the original bytes unchanged (nothing removed or re-classified). */
  body: unknown;
  rewritten: boolean;
  forwarded: number;
  /** Request-level decision log id (`X-IYS-Gate-Decision-Id`), null when the log is off; the records are on disk. */
  decisionId: string | null;
  decisionSeq: number | null;
}

/**
 * Screens one provider message through the gate's one screening (check/screening.ts: promotional
 * policy, then ONE batched consent decision), then maps the result back to the provider's shape:
 * the adapter's rewrite when anything was removed, and its `markCommercial` when policy
 * `treat-as-commercial` re-classified an informational message (the provider is told it is
 * commercial: İYS rules apply to it, Law 6563 art. 6).
 * @param body the parsed request body (what `adapter.read` read `message` from)
 * @param door the entrance (`proxy` or `send`) and the upstream name
 */
export async function screenMessage(
  checks: CheckService, adapter: ProviderAdapter, message: ProviderMessage, body: unknown,
  brandCode: number, policy: PromotionalPolicy, door: { entrance: Entrance; via: string; keyName?: string | undefined } = { entrance: 'proxy', via: adapter.name },
): Promise<Screening> {
  // a request that cannot be declared commercial (Netgsm OTP) is refused rather than sent as informational
  const markCommercial = adapter.markCommercial?.bind(adapter);
  const s = await screenOutbound(checks, {
    entrance: door.entrance, via: door.via, brandCode, type: message.type, recipientType: message.recipientType,
    messageType: message.messageType, recipients: message.recipients, texts: message.texts, unseenText: message.unseenText, keyName: door.keyName,
  }, { policy, canDeclareCommercial: markCommercial ? () => markCommercial(body, message.recipientType) !== null : undefined });
  if (s.refused) {
    return { promo: s.promo, checkedMessageType: s.checkedMessageType, refused: true, keep: s.keep, removed: [], body: null, rewritten: false, forwarded: 0, decisionId: s.decisionId, decisionSeq: s.decisionSeq, content: s.content };
  }
  const { keep, removed, results } = s;
  let out: unknown = null;
  let rewritten = false;
  if (message.indivisible && removed.length > 0) {
    // one call joining these parties: it is placed whole or not at all
    keep.forEach((k, index) => { if (k) { keep[index] = false; removed.push({ index, input: results[index]!.input, recipient: results[index]!.recipient, reason: 'CALL_PARTY_REFUSED' }); } });
    removed.sort((a, b) => a.index - b.index);
    return { promo: s.promo, checkedMessageType: s.checkedMessageType, refused: false, keep, removed, body: null, rewritten: false, forwarded: 0, decisionId: s.decisionId, decisionSeq: s.decisionSeq, content: s.content };
  }
  // nothing kept: nothing is forwarded (the route answers all blocked), so no body to rewrite
  if (removed.length > 0 && s.allowed > 0) {
    const rw = adapter.rewrite(body, keep);
    out = rw.body;
    rewritten = true;
    for (const index of rw.dropped) {
      keep[index] = false;
      removed.push({ index, input: results[index]!.input, recipient: results[index]!.recipient, reason: 'PERSONALIZATION_WITHOUT_TO' });
    }
    removed.sort((a, b) => a.index - b.index);
  }
  // informational text that promotes: it is forwarded as the commercial message it is
  // (treat-as-commercial only ever re-classifies BILGILENDIRME as TICARI: applyPromotionalPolicy)
  if (s.promo.action === 'treat-as-commercial' && markCommercial) {
    out = markCommercial(out ?? body, message.recipientType);
    rewritten = true;
  }
  const forwarded = keep.reduce((n, k) => n + (k ? 1 : 0), 0);
  return { promo: s.promo, checkedMessageType: s.checkedMessageType, refused: false, keep, removed, body: out, rewritten, forwarded, decisionId: s.decisionId, decisionSeq: s.decisionSeq, content: s.content };
}
