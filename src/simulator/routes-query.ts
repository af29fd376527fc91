/**
 * Read operations: single status (consentDetail, 1000/h), multiple status (batchConsentStatus),
 * history (consentsHistory, 100/h), the pull feed (PullPerBrandCode), brands (getBrandsDetails)
 * and subscription (get-subscription). Rules: iys-reference.md §2.4–2.7, §2.10.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { CONSENT_TYPES, RECIPIENT_TYPES, type ConsentType } from '../domain/types.ts';
import { recipientErrors, storedRecipient } from '../iys/consent-rules.ts';
import { hError, type IysErrorItem } from '../iys/h-codes.ts';
import type { SimContext } from './context.ts';
import { accountOf, intParam, sendError, sendErrors } from './reply.ts';
import type { SimMovement } from './state.ts';

const PULL_WINDOW_MS = 7 * 86_400_000;
const PULL_LAG_MS = 60 * 60_000;
const MULTI_MAX = 1000;

/** A movement as the pull feed / history show it (null fields omitted). */
export function feedItem(m: SimMovement, withCitizen = false): Record<string, unknown> {
  return {
    ...(m.consentDate !== null ? { consentDate: m.consentDate } : {}),
    creationDate: m.creationDate,
    ...(m.source !== null ? { source: m.source } : {}),
    recipient: m.recipient, recipientType: m.recipientType, status: m.status, type: m.type,
    transactionId: m.transactionId,
    ...(withCitizen && m.citizenName ? { citizenName: m.citizenName } : {}),
  };
}

/** Checks `{recipient, recipientType, type}` of status/history queries. @returns error items */
function keyQueryErrors(body: Record<string, unknown>): IysErrorItem[] {
  const errs: IysErrorItem[] = [];
  if (body.type === undefined || body.type === '') errs.push(hError('H111', { location: ['type'] }));
  else if (!(CONSENT_TYPES as readonly unknown[]).includes(body.type)) errs.push(hError('H117', { location: ['type'], value: body.type }));
  if (body.recipientType === undefined || body.recipientType === '') errs.push(hError('H170', { location: ['recipientType'] }));
  else if (!(RECIPIENT_TYPES as readonly unknown[]).includes(body.recipientType)) errs.push(hError('H116', { location: ['recipientType'], value: body.recipientType }));
  if (body.recipient === undefined || body.recipient === '') errs.push(hError('H114', { location: ['recipient'] }));
  else if (typeof body.recipient !== 'string') errs.push(hError('H122', { location: ['recipient'], value: body.recipient }));
  else if ((CONSENT_TYPES as readonly unknown[]).includes(body.type)) {
    for (const c of recipientErrors(body.recipient, body.type as ConsentType, 'query')) errs.push(hError(c, { location: ['recipient'], value: body.recipient }));
  }
  return errs;
}

/** Encodes a pull cursor: `<creation epoch seconds>_<transactionId>` (reference §2.7). */
export const encodeCursor = (m: SimMovement): string => `${Math.floor(m.creationMs / 1000)}_${m.transactionId}`;

/** Registers status, multi-status, history, pull, brands and subscription routes. */
export const queryRoutes = (ctx: SimContext): FastifyPluginAsync => async (app) => {
  const isObj = (b: unknown): b is Record<string, unknown> => typeof b === 'object' && b !== null && !Array.isArray(b);

  app.post('/sps/:iysCode/brands/:brandCode/consents/status',
    { config: { iysSim: { operationId: 'consentDetail', auth: true, hourly: 'status' } } }, async (req, reply) => {
      const a = accountOf(req);
      if (!isObj(req.body)) return sendError(reply, 'H097');
      const errs = keyQueryErrors(req.body);
      if (errs.length) return sendErrors(reply, errs);
      const b = req.body as { recipient: string; recipientType: string; type: ConsentType };
      const cur = ctx.state.get(a.iysCode, intParam(req, 'brandCode'), b.recipientType, b.type, storedRecipient(b.recipient, b.type));
      // No record: İYS documents no answer for this case; the simulator answers 200 with {}.
      if (!cur) return reply.send({});
      return reply.send({
        ...feedItem(cur),
        retailerAccessCount: cur.retailerAccess?.length ?? 0,
        ...(cur.retailerCode !== undefined ? { retailerCode: cur.retailerCode } : {}),
      });
    });

  app.post('/sps/:iysCode/brands/:brandCode/consents/:recipientType/status/:type',
    { config: { iysSim: { operationId: 'batchConsentStatus', auth: true } } }, async (req, reply) => {
      const a = accountOf(req);
      const { recipientType, type } = req.params as { recipientType: string; type: string };
      if (!(RECIPIENT_TYPES as readonly string[]).includes(recipientType)) return sendError(reply, 'H116', { location: ['recipientType'], value: recipientType });
      if (!(CONSENT_TYPES as readonly string[]).includes(type)) return sendError(reply, 'H117', { location: ['type'], value: type });
      if (!isObj(req.body)) return sendError(reply, 'H014');
      const list = req.body.recipients;
      if (list === undefined || list === null) return sendError(reply, 'H168', { location: ['recipients'] });
      if (!Array.isArray(list)) return sendError(reply, 'H478', { location: ['recipients'], value: list });
      if (list.length === 0) return sendError(reply, 'H164', { location: ['recipients'], value: list });
      if (list.length > MULTI_MAX) return sendError(reply, 'H127', { location: ['recipients'] });
      const errs: IysErrorItem[] = [];
      const seen = new Set<string>();
      list.forEach((r: unknown, i) => {
        if (typeof r !== 'string') { errs.push(hError('H122', { location: ['recipients', i], value: r })); return; }
        const looksEmail = r.includes('@');
        if ((type === 'EPOSTA') !== looksEmail) {
          errs.push({ ...hError('H464', { location: ['recipient'], value: r }), message: `İzin tipi (type) ${type} için, alıcı (recipient) ${type === 'EPOSTA' ? 'eposta' : 'telefon'} formatında olmalıdır.` });
          return;
        }
        for (const c of recipientErrors(r, type as ConsentType, 'query')) errs.push(hError(c, { location: ['recipients', i], value: r }));
        const k = storedRecipient(r, type as ConsentType);
        if (seen.has(k)) errs.push(hError('H193', { location: ['recipients', i], value: r }));
        seen.add(k);
      });
      if (errs.length) return sendErrors(reply, errs);
      const brandCode = intParam(req, 'brandCode');
      const onay = (list as string[]).map((r) => storedRecipient(r, type as ConsentType))
        .filter((r) => ctx.state.get(a.iysCode, brandCode, recipientType, type, r)?.status === 'ONAY');
      return reply.send({ requestId: randomUUID(), list: onay });
    });

  app.post('/sps/:iysCode/brands/:brandCode/consents/history',
    { config: { iysSim: { operationId: 'consentsHistory', auth: true, hourly: 'history' } } }, async (req, reply) => {
      const a = accountOf(req);
      const q = req.query as Record<string, string | undefined>;
      let limit = 100;
      let offset = 0;
      if (q.limit !== undefined) {
        if (!/^-?\d+$/.test(q.limit) || Number(q.limit) < 0) return sendError(reply, 'H182', { location: ['limit'], value: Number(q.limit) });
        limit = Number(q.limit);
        if (limit === 0) return sendError(reply, 'H187', { location: ['limit'], value: 0 });
        if (limit > 100) return sendError(reply, 'H186', { location: ['limit'], value: limit });
      }
      if (q.offset !== undefined) {
        if (!/^-?\d+$/.test(q.offset) || Number(q.offset) < 0) return sendError(reply, 'H183', { location: ['offset'], value: Number(q.offset) });
        offset = Number(q.offset);
      }
      if (!isObj(req.body)) return sendError(reply, 'H014');
      const errs = keyQueryErrors(req.body);
      if (errs.length) return sendErrors(reply, errs);
      const b = req.body as { recipient: string; recipientType: string; type: ConsentType };
      const recipient = storedRecipient(b.recipient, b.type);
      const all = ctx.state.brandMovements(a.iysCode, intParam(req, 'brandCode'))
        .filter((m) => m.recipient === recipient && m.type === b.type && m.recipientType === b.recipientType)
        .sort((x, y) => ((y.consentDate ?? '') < (x.consentDate ?? '') ? -1 : (y.consentDate ?? '') > (x.consentDate ?? '') ? 1 : y.seq - x.seq));
      return reply.send({
        list: all.slice(offset, offset + limit).map((m) => feedItem(m)),
        pagination: { offset, pageSize: limit, totalCount: all.length },
      });
    });

  app.get('/sps/:iysCode/brands/:brandCode/consents/changes',
    { config: { iysSim: { operationId: 'PullPerBrandCode', auth: true } } }, async (req, reply: FastifyReply) => {
      const a = accountOf(req);
      const q = req.query as Record<string, string | undefined>;
      const source = q.source ?? 'IYS';
      if (source !== 'HS' && source !== 'IYS') return sendError(reply, 'H506', { location: ['source'], value: source });
      let limit = 1000;
      if (q.limit !== undefined) {
        if (!/^\d+$/.test(q.limit) || Number(q.limit) < 1 || Number(q.limit) > 1000) return sendError(reply, 'H507', { location: ['limit'], value: q.limit });
        limit = Number(q.limit);
      }
      const now = ctx.clock.nowMs();
      // An unreadable cursor starts from the beginning of the window (İYS documents no error).
      const cur = /^(\d+)_([0-9a-f]{64})$/.exec(q.after ?? '');
      const afterSec = cur ? Number(cur[1]) : -1;
      const afterTx = cur ? cur[2]! : '';
      // The brand's movements are sorted by (second, transactionId): binary-search the cursor,
      // then scan forward only as far as one page (plus one, to see a shared cursor) needs.
      const all = ctx.state.brandMovements(a.iysCode, intParam(req, 'brandCode'));
      let lo = 0;
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const m = all[mid]!;
        const sec = Math.floor(m.creationMs / 1000);
        if (sec < afterSec || (sec === afterSec && m.transactionId <= afterTx)) lo = mid + 1; else hi = mid;
      }
      const candidates: SimMovement[] = [];
      for (let i = lo; i < all.length && candidates.length <= limit; i++) {
        const m = all[i]!;
        if (m.creationMs < now - PULL_WINDOW_MS || m.creationMs > now - PULL_LAG_MS) continue;
        if (source === 'HS' ? m.source === null || m.source.startsWith('HS_') : m.source?.startsWith('IYS_') === true) candidates.push(m);
      }
      if (candidates.length === 0) return reply.code(204).send();
      let page = candidates.slice(0, limit);
      // Never split movements sharing (second, transactionId) across pages: the cursor could not
      // tell them apart.
      const next = candidates[page.length];
      if (next && page.length > 1 && encodeCursor(next) === encodeCursor(page[page.length - 1]!)) {
        const last = encodeCursor(next);
        const cut = page.filter((m) => encodeCursor(m) !== last);
        if (cut.length > 0) page = cut;
      }
      return reply.send({ after: encodeCursor(page[page.length - 1]!), list: page.map((m) => feedItem(m, source === 'IYS')) });
    });

  app.get('/sps/:iysCode/brands', { config: { iysSim: { operationId: 'getBrandsDetails', auth: true, unknownIysCode404: true } } }, async (req, reply) => {
    const a = accountOf(req);
    return reply.send(a.brands.map((b, i) => {
      let approval = 0;
      let rejection = 0;
      for (const [k, m] of ctx.state.current) {
        if (!k.startsWith(`${a.iysCode}|${b.brandCode}|`)) continue;
        if (m.status === 'ONAY') approval++; else rejection++;
      }
      return {
        brandCode: b.brandCode, name: b.name, master: b.master || (i === 0 && !a.brands.some((x) => x.master)),
        stats: { consents: { approval, rejection, total: approval + rejection }, retailers: { total: a.retailers.length } },
      };
    }));
  });

  app.get('/sps/:iysCode/subscription',
    { config: { iysSim: { operationId: 'get-subscription', auth: true, subscriptionQuery: true } } }, async (req, reply) => {
      const a = accountOf(req);
      const s = a.subscription;
      if (s.status === 'NONE') return sendErrors(reply, [{ code: 'H437', message: `IYS numarası:${a.iysCode} ile abonelik bulunamadı.` }], 404);
      const used = ctx.state.keysOf(a.iysCode);
      const id = `SIM-${a.iysCode}`;
      return reply.send({
        startDate: '2025-01-01', expirationDate: '2030-12-31', subscriptionPackageName: s.packageName, status: s.status,
        consentLimit: s.consentLimit, usedConsentLimit: used, consentLimitExceed: s.consentLimit > 0 && used >= s.consentLimit,
        // İYS's schema spells the id `subsciprtionId`; both spellings are sent.
        subscriptionId: id, subsciprtionId: id,
      });
    });
};
