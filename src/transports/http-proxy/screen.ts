import type { CheckService } from '../../check/check-service.ts';
import { applyPromotionalPolicy, type PromotionalOutcome, type PromotionalPolicy } from '../../domain/promo-lint.ts';
import type { MessageType } from '../../domain/types.ts';
import type { RemovedRecipient } from './removal-reports.ts';
import type { ProviderAdapter, ProviderMessage } from './types.ts';

/** What screening one message decided. */
export interface Screening {
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
}

/**
 * Screens one provider message: promotional policy, then ONE batched consent lookup for every
 * recipient (CheckService.checkBatch), then the adapter's rewrite when anything was removed, and
 * its `markCommercial` when policy `treat-as-commercial` re-classified an informational message
 * (the provider is told it is commercial: İYS rules apply to it, Law 6563 art. 6).
 * @param body the parsed request body (what `adapter.read` read `message` from)
 */
export async function screenMessage(
  checks: CheckService, adapter: ProviderAdapter, message: ProviderMessage, body: unknown,
  brandCode: number, policy: PromotionalPolicy,
): Promise<Screening> {
  const promo = applyPromotionalPolicy(message.messageType, message.texts, policy, message.unseenText);
  // a request that cannot be declared commercial (Netgsm OTP) is refused rather than sent as informational
  const undeclarable = promo.action === 'treat-as-commercial' && adapter.markCommercial?.(body, message.recipientType) === null;
  if (promo.action === 'block' || undeclarable) {
    return {
      promo, checkedMessageType: message.messageType, refused: true, keep: message.recipients.map(() => false),
      removed: [], body: null, rewritten: false, forwarded: 0,
    };
  }
  const { results } = await checks.checkBatch({
    brandCode, type: message.type, recipientType: message.recipientType, messageType: promo.messageType,
  }, message.recipients);
  const keep = results.map((r) => r.decision === 'ALLOW');
  const removed: RemovedRecipient[] = [];
  results.forEach((r, index) => { if (!keep[index]) removed.push({ index, input: r.input, recipient: r.recipient, reason: r.reason }); });
  let out: unknown = null;
  let rewritten = false;
  if (removed.length > 0) {
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
  if (promo.action === 'treat-as-commercial' && adapter.markCommercial) {
    out = adapter.markCommercial(out ?? body, message.recipientType);
    rewritten = true;
  }
  const forwarded = keep.reduce((n, k) => n + (k ? 1 : 0), 0);
  return { promo, checkedMessageType: promo.messageType, refused: false, keep, removed, body: out, rewritten, forwarded };
}
