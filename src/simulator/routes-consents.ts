/**
 * Consent writes: single v1/v2 (addConsent, addConsentV2), asynchronous batch v1/v2
 * (addBatchConsent, addBatchConsentV2) and batch results (searchRequestDetails, …V2).
 * Rules: iys-reference.md §2.1–2.3, §4.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { BATCH_MAX_ITEMS, consentKeyOf, type ConsentInput } from '../iys/consent-rules.ts';
import { hError, type IysErrorItem } from '../iys/h-codes.ts';
import type { SimContext } from './context.ts';
import { accountOf, intParam, sendError, sendErrors } from './reply.ts';
import type { SimBatch } from './state.ts';

const RETENTION_MS = 60 * 86_400_000;

const sortedJson = (o: Record<string, unknown>): string =>
  JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))));

/** Registers the single/batch write and batch-result routes (v1 and v2). */
export const consentRoutes = (ctx: SimContext): FastifyPluginAsync => async (app) => {
  const single = (v2: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const a = accountOf(req);
    const brandCode = intParam(req, 'brandCode');
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return sendError(reply, 'H085');
    const errs = ctx.validate(body);
    if (errs.length) return sendErrors(reply, errs);
    const dealer = ctx.dealerErrors(a, body as Record<string, unknown>);
    if (dealer.length) return sendErrors(reply, dealer);
    let idem = '';
    if (v2) {
      idem = createHash('sha256').update(`${a.iysCode}|${brandCode}|${sortedJson(body as Record<string, unknown>)}`).digest('hex');
      const prev = ctx.state.v2Single.get(idem);
      if (prev) return reply.send(prev);
    }
    const r = ctx.applyProviderWrite(a, brandCode, body as ConsentInput);
    if (!r.ok) return sendErrors(reply, r.errors, r.status);
    const out = { transactionId: r.movement.transactionId, creationDate: r.movement.creationDate };
    if (v2) ctx.state.v2Single.set(idem, out);
    return reply.send(out);
  };

  const batch = (v2: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const a = accountOf(req);
    const brandCode = intParam(req, 'brandCode');
    const body = req.body;
    if (!Array.isArray(body) || body.length === 0) return sendError(reply, 'H092');
    if (body.length > BATCH_MAX_ITEMS) return sendError(reply, 'H091');
    const errs: IysErrorItem[] = [];
    const seen = new Set<string>();
    body.forEach((item: unknown, index) => {
      if (typeof item === 'object' && item !== null && (item as Record<string, unknown>).retailerCode === null) {
        errs.push(hError('H266', { index }));
        return;
      }
      const e = ctx.validate(item, index);
      errs.push(...e);
      if (e.length === 0) {
        const k = consentKeyOf(item as ConsentInput);
        if (seen.has(k)) errs.push(hError('H194', { index }));
        seen.add(k);
      }
    });
    if (errs.length) return sendErrors(reply, errs);
    const dealer = body.flatMap((item: Record<string, unknown>, index) => ctx.dealerErrors(a, item).map((e) => ({ ...e, index })));
    if (dealer.length) return sendErrors(reply, dealer);
    const limit = a.subscription.consentLimit;
    if (limit > 0) {
      const fresh = new Set((body as ConsentInput[]).map((c) => consentKeyOf(c))
        .filter((k) => !ctx.state.current.has(`${a.iysCode}|${brandCode}|${k}`)));
      if (ctx.state.keysOf(a.iysCode) + fresh.size > limit) return sendError(reply, 'H525');
    }
    const now = ctx.clock.nowMs();
    const b: SimBatch = {
      requestId: ctx.state.newRequestId(), iysCode: a.iysCode, brandCode, v2, submittedMs: now, creationDate: ctx.nowIys(),
      items: body.map((item: Record<string, unknown>, index) => ({ index, subrequestId: randomUUID(), body: item })),
      processed: false,
    };
    ctx.state.batches.set(b.requestId, b);
    ctx.processDueBatches();
    return reply.code(202).send({
      requestId: b.requestId,
      subRequests: b.items.map((it) => ({
        subrequestId: it.subrequestId, type: it.body.type, source: it.body.source, recipient: it.body.recipient,
        status: it.body.status, consentDate: it.body.consentDate, recipientType: it.body.recipientType ?? 'BIREYSEL',
        creationDate: b.creationDate,
      })),
    });
  };

  const result = (v2: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const a = accountOf(req);
    const requestId = (req.params as { requestId: string }).requestId;
    if (requestId.length > 36) return sendError(reply, 'H198', { location: ['requestId'], value: requestId });
    if (/^[A-Za-z]+$/.test(requestId)) return sendError(reply, 'H199', { location: ['requestId'], value: requestId });
    if (/^\d+$/.test(requestId)) return sendError(reply, 'H400', { location: ['requestId'], value: requestId });
    ctx.processDueBatches();
    const b = ctx.state.batches.get(requestId);
    const now = ctx.clock.nowMs();
    if (!b || b.iysCode !== a.iysCode || b.brandCode !== intParam(req, 'brandCode')
      || now < b.submittedMs + ctx.config.batchDelayMs || now > b.submittedMs + RETENTION_MS) {
      return reply.send([]);
    }
    return reply.send(b.items.map((it) => {
      const r = it.result ?? { status: 'enqueue' as const };
      return {
        index: it.index, status: r.status, subrequestId: it.subrequestId, requestId: b.requestId,
        ...(r.transactionId ? { transactionId: r.transactionId } : {}),
        ...(r.status === 'success' && r.creationDate ? { creationDate: r.creationDate } : {}),
        ...(r.error ? { error: r.error } : {}),
        ...(v2 ? { isAddConsentV2Service: r.originalRequestInformation !== undefined } : {}),
        ...(v2 && r.originalRequestInformation ? { originalRequestInformation: r.originalRequestInformation } : {}),
      };
    }));
  };

  const cfg = (operationId: string) => ({ config: { iysSim: { operationId, auth: true } } });
  app.post('/sps/:iysCode/brands/:brandCode/consents', cfg('addConsent'), single(false));
  app.post('/v2/sps/:iysCode/brands/:brandCode/consents', cfg('addConsentV2'), single(true));
  app.post('/sps/:iysCode/brands/:brandCode/consents/request', cfg('addBatchConsent'), batch(false));
  app.post('/v2/sps/:iysCode/brands/:brandCode/consents/request', cfg('addBatchConsentV2'), batch(true));
  app.get('/sps/:iysCode/brands/:brandCode/consents/request/:requestId', cfg('searchRequestDetails'), result(false));
  app.get('/v2/sps/:iysCode/brands/:brandCode/consents/request/:requestId', cfg('searchRequestDetailsV2'), result(true));
};
