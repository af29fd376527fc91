import type { FastifyInstance } from 'fastify';
import { reportDeadline } from '../../domain/calendar.ts';
import { normalizeRecipient } from '../../domain/recipient.ts';
import { formatIysDate } from '../../domain/turkish-time.ts';
import type { ConsentSource, ConsentType, Movement, RecipientType } from '../../domain/types.ts';
import { gatewayError, isGatewayError } from '../../errors.ts';
import { requireBrand } from '../../plugins/auth.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse, rejectionBody, rejectionResponse } from '../schemas.ts';

interface RejectionBody {
  brandCode?: number; recipient: string; type: ConsentType; recipientType: RecipientType;
  source?: ConsentSource; receivedAt?: string;
}

/** Default source of a refusal by channel when the caller gives none. */
export const DEFAULT_RET_SOURCE: Record<ConsentType, ConsentSource> = {
  MESAJ: 'HS_MESAJ', EPOSTA: 'HS_EPOSTA', ARAMA: 'HS_CAGRI_MERKEZI',
};

/**
 * POST /v1/rejections: a refusal the company received itself. Queued in the durable outbox, then
 * applied to the mirror durably (journal fsync / Redis), both before the 201, so the next check
 * blocks and a crash loses nothing; a 503 (store down or slow) may leave it queued, never applied
 * unqueued.
 * `reportDeadline`: the last business day to register it in İYS (3 business days from the day
 * after receivedAt, Europe/Istanbul; regulation art. 9, DOMAIN.md §1.4).
 */
export default async function rejectionRoutes(app: FastifyInstance, deps: RouteDeps) {
  app.post<{ Body: RejectionBody }>('/v1/rejections', {
    config: { scope: 'rejections' },
    schema: {
      summary: 'Record a refusal (RET) received through the company\'s own channels', tags: ['rejections'],
      body: rejectionBody, response: { 201: rejectionResponse, '4xx': errorResponse },
    },
  }, async (req, reply) => {
    const b = req.body;
    const brandCode = requireBrand(req, b.brandCode, deps.servedBrands);
    const n = normalizeRecipient(b.recipient, b.type);
    if (!n.ok) throw gatewayError('GW_ERR_INVALID_RECIPIENT', [n.message], { field: 'recipient' });
    const now = deps.now();
    let at = new Date(now);
    if (b.receivedAt !== undefined) {
      at = new Date(b.receivedAt);
      if (Number.isNaN(at.getTime())) throw gatewayError('GW_ERR_VALIDATION', ['receivedAt is not an ISO 8601 date-time'], { field: 'receivedAt' });
      if (at.getTime() > now + 60_000) throw gatewayError('GW_ERR_VALIDATION', ['receivedAt is in the future'], { field: 'receivedAt' });
      if (at.getTime() < Date.UTC(2015, 3, 30, 21)) throw gatewayError('GW_ERR_VALIDATION', ['receivedAt is before 2015-05-01 (H156)'], { field: 'receivedAt' });
    }
    const movement: Movement = {
      brandCode, recipientType: b.recipientType, type: b.type, recipient: n.canonical, status: 'RET',
      source: b.source ?? DEFAULT_RET_SOURCE[b.type], consentDate: formatIysDate(at),
      creationDate: null, transactionId: null, noncanonical: false,
    };
    let deadline: string | null = null;
    let deadlineError: string | undefined;
    try {
      deadline = reportDeadline(at, { halfDayPolicy: deps.config.policy.halfDayPolicy });
    } catch (err) {
      // The refusal is recorded and blocks regardless; only its deadline is unknown (a date
      // outside the holiday table): the coded error says so, the outbox counts it as overdue.
      if (!isGatewayError(err)) throw err;
      deadlineError = err.code;
    }
    // Queued for İYS (the durable outbox) with its deadline, so nothing acknowledged is lost —
    // unless İYS can never register the address (e-mail with Turkish letters, H120): it still
    // blocks here, and is not sent to be refused.
    // The outbox record is durable BEFORE the mirror write (issue 12 item 3): a mirror write that
    // fails, times out (a hung Redis may still apply it later) or is cut by a crash leaves at worst
    // a queued refusal the mirror lacks, which İYS answers H174/H175 (both handled) and the pull
    // feed brings back — never a refusal in the mirror that İYS is not told of.
    const queued = n.registrable;
    if (queued) {
      await deps.iys.outbox.add([{
        brandCode, origin: 'rejection', receivedAt: at.toISOString(), deadline,
        consent: { recipient: n.canonical, type: b.type, recipientType: b.recipientType, status: 'RET', source: movement.source!, consentDate: movement.consentDate! },
      }]);
    }
    const [outcome] = await deps.store.apply([movement]);
    deps.metrics.rejections.inc();
    reply.code(201);
    return {
      recipient: n.canonical, type: b.type, recipientType: b.recipientType, status: 'RET',
      reportDeadline: deadline, consentDate: movement.consentDate, outcome, queued,
      ...(deadlineError ? { deadlineError } : {}),
    };
  });
}
