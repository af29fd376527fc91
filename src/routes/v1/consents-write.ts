import type { FastifyInstance } from 'fastify';
import { reportDeadline, isWithinUploadWindow } from '../../domain/calendar.ts';
import { normalizeRecipient } from '../../domain/recipient.ts';
import { parseIysDate } from '../../domain/turkish-time.ts';
import { CONSENT_STATUSES, HS_SOURCES, type ConsentStatus, type ConsentType, type Movement, type RecipientType } from '../../domain/types.ts';
import { gatewayError, storeUnavailable } from '../../errors.ts';
import { validateConsent } from '../../iys/consent-rules.ts';
import { requireBrand } from '../../plugins/auth.ts';
import type { RouteDeps } from '../deps.ts';
import { brandCode, errorResponse, recipient, recipientType, retailerCode, type } from '../schemas.ts';

interface ConsentBody {
  brandCode?: number; recipient: string; type: ConsentType; recipientType: RecipientType; status: ConsentStatus;
  source: string; consentDate: string; retailerCode?: number; retailerAccess?: number[];
}

export const consentWriteBody = {
  type: 'object',
  additionalProperties: false,
  required: ['recipient', 'type', 'status', 'source', 'consentDate'],
  properties: {
    brandCode, recipient, type, recipientType, retailerCode,
    status: { type: 'string', enum: CONSENT_STATUSES },
    source: { type: 'string', enum: HS_SOURCES, description: 'Provider-declared source (İYS-side IYS_* sources are refused)' },
    consentDate: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}$', description: 'YYYY-MM-DD HH:mm:ss, Turkish time' },
    retailerAccess: { type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: 3000 },
  },
} as const;

/**
 * POST /v1/consents: a consent or refusal the company collected itself, to be registered in İYS.
 * Validated locally with İYS's own rules (formats, enums, HS_2015's fixed date, H162 future,
 * H467 three business days) → 422 GW_ERR_IYS_INVALID_CONSENT with the H-code (a RET past H467's
 * window is still queued and applied, answered with `iysError`). A RET is effective
 * in the mirror before the answer; an ONAY only once İYS accepted it (unless
 * `consents.onayEffectiveBeforeAck`). Both go to the durable outbox; 202 with the item id and the
 * registration deadline. Without an `iys` account: 409 GW_ERR_IYS_NOT_CONFIGURED, nothing applied
 * (a refusal received without İYS is recorded with POST /v1/rejections).
 */
export default async function consentWriteRoutes(app: FastifyInstance, deps: RouteDeps) {
  app.post<{ Body: ConsentBody }>('/v1/consents', {
    config: { scope: 'consents' },
    schema: {
      summary: 'Record a consent or refusal the company collected and queue it for İYS', tags: ['consents'],
      body: consentWriteBody, response: { '4xx': errorResponse },
    },
  }, async (req, reply) => {
    const b = req.body;
    const brand = requireBrand(req, b.brandCode, deps.servedBrands);
    // without an İYS account nothing could ever register it: it would stay pending forever (issue 10)
    if (!deps.iys.client) throw gatewayError('GW_ERR_IYS_NOT_CONFIGURED');
    const n = normalizeRecipient(b.recipient, b.type);
    if (!n.ok) throw gatewayError('GW_ERR_INVALID_RECIPIENT', [n.message], { field: 'recipient' });
    if (!n.registrable) throw gatewayError('GW_ERR_IYS_INVALID_CONSENT', ['H120: address İYS cannot register'], { field: 'recipient' });
    const consent = {
      recipient: n.canonical, type: b.type, recipientType: b.recipientType, status: b.status, source: b.source, consentDate: b.consentDate,
      ...(b.retailerCode !== undefined ? { retailerCode: b.retailerCode } : {}), ...(b.retailerAccess ? { retailerAccess: b.retailerAccess } : {}),
    };
    const errs = validateConsent(consent, { now: new Date(deps.now()), withinUploadWindow: (d, now) => isWithinUploadWindow(d, now, { halfDayPolicy: deps.config.policy.halfDayPolicy }) });
    const key = { brandCode: brand, recipientType: b.recipientType, type: b.type, recipient: n.canonical };
    if (errs.length) {
      const e = errs[0]!;
      // A refusal the company holds blocks here even when İYS would refuse the upload as late
      // (H467: our count of İYS's three business days is a prediction, İYS's own is not
      // documented): queued in the outbox first, then applied to the mirror, as every refusal
      // (issue 12 item 3: the mirror never holds a company refusal İYS is not told of). Its
      // deadline has passed: the outbox counts it overdue; if İYS refuses it the item is failed
      // with the H-code, in sight. The answer carries the predicted error. An ONAY is refused.
      if (b.status === 'RET' && errs.every((x) => x.code === 'H467')) {
        const at = parseIysDate(b.consentDate);
        let deadline: string | null = null;
        try { deadline = reportDeadline(at, { halfDayPolicy: deps.config.policy.halfDayPolicy }); } catch { /* outside the calendar: stays null */ }
        const [item] = await deps.iys.outbox.add([{ brandCode: brand, consent, origin: 'consent', receivedAt: at.toISOString(), deadline }]);
        const m: Movement = { ...key, status: 'RET', source: b.source as Movement['source'], consentDate: b.consentDate, creationDate: null, transactionId: null, noncanonical: false };
        await deps.store.apply([m]).catch((err: unknown) => { throw storeUnavailable(err); });
        reply.code(202);
        return { id: item!.id, ...consent, brandCode: brand, effective: true, queued: true, state: item!.state, reportDeadline: deadline, iysError: { code: e.code, message: e.message } };
      }
      throw gatewayError('GW_ERR_IYS_INVALID_CONSENT', [`${e.code}: ${e.message}`], { field: e.location?.join('.') ?? 'body' });
    }
    const current = await deps.store.get(key).catch((err: unknown) => { throw storeUnavailable(err); });
    if (current?.consentDate && b.consentDate < current.consentDate) {
      throw gatewayError('GW_ERR_IYS_INVALID_CONSENT', [`H178: consentDate is older than the record's (${current.consentDate})`], { field: 'consentDate' });
    }
    const at = parseIysDate(b.consentDate);
    let deadline: string | null = null;
    try { deadline = reportDeadline(at, { halfDayPolicy: deps.config.policy.halfDayPolicy }); } catch { /* outside the calendar: stays null */ }
    const effective = b.status === 'RET' || deps.config.consents.onayEffectiveBeforeAck;
    // outbox first, then the mirror (issue 12 item 3; see rejections.ts): a failed or timed-out
    // mirror write leaves the item queued (İYS H174/H175 handled), never applied unqueued
    const entry = { brandCode: brand, consent, origin: 'consent' as const, receivedAt: at.toISOString(), deadline };
    const m: Movement = { ...key, status: b.status, source: b.source as Movement['source'], consentDate: b.consentDate, creationDate: null, transactionId: null, noncanonical: false };
    const { items: [item] } = await deps.iys.outbox.addAndApply([entry], effective ? [m] : [], deps.store)
      .catch((err: unknown) => { throw storeUnavailable(err); });
    reply.code(202);
    return { id: item!.id, ...consent, brandCode: brand, effective, queued: true, state: item!.state, reportDeadline: deadline };
  });
}
