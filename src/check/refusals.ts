import { reportDeadline, type HalfDayPolicy } from '../domain/calendar.ts';
import { normalizeRecipient } from '../domain/recipient.ts';
import { formatIysDate } from '../domain/turkish-time.ts';
import type { ConsentSource, ConsentType, Movement, RecipientType } from '../domain/types.ts';
import type { ApplyOutcome, ConsentStore } from '../mirror/consent-store.ts';
import { gatewayError, isGatewayError } from '../errors.ts';
import type { OutboxStore } from '../iys/outbox-store.ts';

/** Default source of a refusal by channel when the caller gives none (İYS `source` values). */
export const DEFAULT_RET_SOURCE: Record<ConsentType, ConsentSource> = {
  MESAJ: 'HS_MESAJ', EPOSTA: 'HS_EPOSTA', ARAMA: 'HS_CAGRI_MERKEZI',
};

/** A refusal (RET) the company received itself, from any door (API, one-click unsubscribe, an SMS reply…). */
export interface RefusalInput {
  brandCode: number;
  /** As received; normalized here (throws GW_ERR_INVALID_RECIPIENT when it cannot be). */
  recipient: string;
  type: ConsentType;
  recipientType: RecipientType;
  /** Default `DEFAULT_RET_SOURCE[type]`. */
  source?: ConsentSource | undefined;
  /** When the company received it (becomes `consentDate`, Turkish time); default now. Callers validate it is not in the future. */
  receivedAt?: Date | undefined;
}

/** What recording one refusal did (the body of POST /v1/rejections' 201). */
export interface RefusalResult {
  recipient: string; type: ConsentType; recipientType: RecipientType; status: 'RET';
  /** Last business day (YYYY-MM-DD, Istanbul) to register it in İYS, or null when unknown (see `deadlineError`). */
  reportDeadline: string | null;
  consentDate: string;
  outcome: ApplyOutcome;
  /** False when İYS can never register the address (e-mail with Turkish letters, H120): it blocks here only. */
  queued: boolean;
  deadlineError?: string;
}

/** What `recordRefusal` needs. */
export interface RefusalDeps {
  store: ConsentStore;
  outbox: Pick<OutboxStore, 'addAndApply'>;
  halfDayPolicy?: HalfDayPolicy | undefined;
  /** Epoch ms clock. */
  now: () => number;
}

/**
 * The one refusal path of the gate (POST /v1/rejections, one-click unsubscribe, opt-out replies):
 * queued in the durable outbox with its deadline, then applied to the mirror durably (on one Redis
 * node both in one Lua script), both before this resolves, so the next check blocks and a crash
 * loses nothing. The outbox record is durable
 * BEFORE the mirror write (issue 12 item 3): a mirror write that fails, times out or is cut by a
 * crash leaves at worst a queued refusal the mirror lacks (İYS answers H174/H175, both handled,
 * and the pull feed brings it back) — never a refusal in the mirror that İYS is not told of.
 * Deadline: 3 business days from the day after receipt, Europe/Istanbul (regulation art. 9,
 * DOMAIN.md §1.4; domain/calendar.ts). A date outside the holiday table still records and blocks;
 * only the deadline is unknown (`deadlineError`, counted overdue by the outbox).
 * @throws GW_ERR_INVALID_RECIPIENT when the recipient cannot be normalized; store/outbox errors as they come (the caller answers 503).
 */
export async function recordRefusal(deps: RefusalDeps, input: RefusalInput): Promise<RefusalResult> {
  return (await recordRefusals(deps, [input]))[0]!;
}

/**
 * `recordRefusal` for several refusals at once (a provider push of many replies): the same path,
 * with ONE outbox append for all of them, durable before ONE mirror write of all of them. Every
 * input is validated first; nothing is written when one does not normalize.
 * @throws GW_ERR_INVALID_RECIPIENT (field `recipient`, or `<i>.recipient` in a batch of several); store/outbox errors as they come
 */
export async function recordRefusals(deps: RefusalDeps, inputs: readonly RefusalInput[]): Promise<RefusalResult[]> {
  const prepared = inputs.map((input, i) => {
    const n = normalizeRecipient(input.recipient, input.type);
    if (!n.ok) throw gatewayError('GW_ERR_INVALID_RECIPIENT', [n.message], { field: inputs.length === 1 ? 'recipient' : `${i}.recipient` });
    const at = input.receivedAt ?? new Date(deps.now());
    const source = input.source ?? DEFAULT_RET_SOURCE[input.type];
    const movement: Movement = {
      brandCode: input.brandCode, recipientType: input.recipientType, type: input.type, recipient: n.canonical, status: 'RET',
      source, consentDate: formatIysDate(at), creationDate: null, transactionId: null, noncanonical: false,
    };
    let deadline: string | null = null;
    let deadlineError: string | undefined;
    try {
      deadline = reportDeadline(at, { halfDayPolicy: deps.halfDayPolicy });
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      deadlineError = err.code;
    }
    return { input, n, at, source, movement, deadline, deadlineError, queued: n.registrable };
  });
  const queue = prepared.filter((p) => p.queued);
  // On Redis (one node) the outbox items and the mirror writes are one Lua script (issue 17);
  // elsewhere the outbox items first (one append), then the mirror (outbox-store.ts addAndApply).
  const { outcomes } = prepared.length > 0 ? await deps.outbox.addAndApply(queue.map((p) => ({
    brandCode: p.input.brandCode, origin: 'rejection' as const, receivedAt: p.at.toISOString(), deadline: p.deadline,
    consent: { recipient: p.n.canonical, type: p.input.type, recipientType: p.input.recipientType, status: 'RET' as const, source: p.source, consentDate: p.movement.consentDate! },
  })), prepared.map((p) => p.movement), deps.store) : { outcomes: [] };
  return prepared.map((p, i) => ({
    recipient: p.n.canonical, type: p.input.type, recipientType: p.input.recipientType, status: 'RET' as const,
    reportDeadline: p.deadline, consentDate: p.movement.consentDate!, outcome: outcomes[i]!, queued: p.queued,
    ...(p.deadlineError ? { deadlineError: p.deadlineError } : {}),
  }));
}
