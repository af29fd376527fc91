/**
 * The simulator-only admin API under `/_sim/` (no auth; bind the simulator to 127.0.0.1).
 *
 * - `GET  /_sim/health` → `{ok:true}`
 * - `GET  /_sim/clock`, `POST /_sim/clock {set?: ISO-8601, advanceMs?: number, frozen?: boolean}`
 *   → `{now: ISO, iys: 'YYYY-MM-DD HH:mm:ss', frozen}`
 * - `POST /_sim/citizen {iysCode?, brandCode, recipient, type, recipientType?, status, source:
 *   IYS_*, consentDate?, citizenName?}` → the movement (act as a citizen through İYS; triggers push;
 *   `IYS_AHS_HAT_KAPATMA` = line closure RET carrying the stored consentDate)
 * - `POST /_sim/movements {…same, source: any, creationDate?, transactionId?}` → seed a raw movement, no rules
 *   (history, pull and file tests)
 * - `GET|POST|DELETE /_sim/faults` — `{kind: 'status'|'drop'|'delay', status?, code?, delayMs?,
 *   path?: regex, method?, times?}`
 * - `POST|DELETE /_sim/hold {recipients}` — batch items for these recipients stay `enqueue`
 * - `GET /_sim/push/deliveries`, `GET /_sim/stats`, `POST /_sim/reset-limits`,
 *   `POST /_sim/tokens/revoke`, `GET|POST /_sim/accounts`,
 *   `PATCH /_sim/accounts/:username/subscription {status?, apiIncluded?, consentLimit?}`,
 *   `GET /_sim/consents?iysCode=&brandCode=`
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { CONSENT_STATUSES, CONSENT_TYPES, IYS_SOURCES, RECIPIENT_TYPES } from '../domain/types.ts';
import { parseIysDateStrict, toIysDate } from '../iys/consent-rules.ts';
import { accountSchema, type SimAccount } from './config.ts';
import type { SimContext } from './context.ts';
import type { PushDelivery } from './push-delivery.ts';
import { feedItem } from './routes-query.ts';

const actSchema = z.object({
  iysCode: z.number().int().optional(),
  brandCode: z.number().int(),
  recipient: z.string().min(1),
  type: z.enum(CONSENT_TYPES),
  recipientType: z.enum(RECIPIENT_TYPES).default('BIREYSEL'),
  status: z.enum(CONSENT_STATUSES),
  source: z.string().optional(),
  consentDate: z.string().optional(),
  creationDate: z.string().optional(),
  citizenName: z.string().optional(),
  transactionId: z.string().regex(/^[0-9a-f]{64}$/).optional(),
}).strict();

const faultSchema = z.object({
  kind: z.enum(['status', 'drop', 'delay']),
  status: z.number().int().min(400).max(599).optional(),
  code: z.string().optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  path: z.string().optional(),
  method: z.string().optional(),
  times: z.number().int().positive().optional(),
}).strict();

const bad = (reply: FastifyReply, message: string): FastifyReply => reply.code(400).send({ error: 'bad_request', message });

/** Registers the `/_sim/` admin API described in the header. */
export const adminRoutes = (ctx: SimContext, push: PushDelivery): FastifyPluginAsync => async (app) => {
  const clockView = () => ({ now: ctx.clock.now().toISOString(), iys: ctx.nowIys(), frozen: ctx.clock.frozen });
  const accountFor = (iysCode: number | undefined, brandCode: number): SimAccount | undefined =>
    [...ctx.accounts.values()].find((a) => (iysCode === undefined || a.iysCode === iysCode) && a.brands.some((b) => b.brandCode === brandCode));

  app.get('/_sim/health', async () => ({ ok: true }));
  app.get('/_sim/clock', async () => clockView());
  app.post('/_sim/clock', async (req, reply) => {
    const p = z.object({ set: z.string().datetime({ offset: true }).optional(), advanceMs: z.number().int().optional(), frozen: z.boolean().optional() }).strict().safeParse(req.body ?? {});
    if (!p.success) return bad(reply, p.error.message);
    if (p.data.frozen !== undefined) ctx.clock.freeze(p.data.frozen);
    if (p.data.set) ctx.clock.set(new Date(p.data.set));
    if (p.data.advanceMs) ctx.clock.advance(p.data.advanceMs);
    ctx.processDueBatches();
    return clockView();
  });

  app.post('/_sim/citizen', async (req, reply) => {
    const p = actSchema.safeParse(req.body);
    if (!p.success) return bad(reply, p.error.message);
    const act = p.data;
    if (!act.source || !(IYS_SOURCES as readonly string[]).includes(act.source)) return bad(reply, `source must be one of ${IYS_SOURCES.join(', ')}`);
    const a = accountFor(act.iysCode, act.brandCode);
    if (!a) return bad(reply, 'unknown iysCode/brandCode');
    const m = ctx.citizenAct(a, act.brandCode, {
      recipient: act.recipient, type: act.type, recipientType: act.recipientType, status: act.status, source: act.source,
      ...(act.consentDate ? { consentDate: act.consentDate } : {}), ...(act.citizenName ? { citizenName: act.citizenName } : {}),
    });
    return reply.code(201).send(feedItem(m, true));
  });

  app.post('/_sim/movements', async (req, reply) => {
    const p = actSchema.safeParse(req.body);
    if (!p.success) return bad(reply, p.error.message);
    const act = p.data;
    const a = accountFor(act.iysCode, act.brandCode);
    if (!a) return bad(reply, 'unknown iysCode/brandCode');
    let creationMs: number | undefined;
    if (act.creationDate) {
      const d = parseIysDateStrict(act.creationDate);
      if (!(d instanceof Date)) return bad(reply, 'creationDate must be YYYY-MM-DD HH:mm:ss');
      creationMs = d.getTime();
    }
    const m = ctx.record({
      iysCode: a.iysCode, brandCode: act.brandCode, recipient: act.type === 'EPOSTA' ? act.recipient.toLowerCase() : act.recipient,
      recipientType: act.recipientType, type: act.type, status: act.status, source: act.source || null,
      consentDate: act.consentDate || null, ...(creationMs !== undefined ? { creationMs } : {}),
      ...(act.transactionId ? { transactionId: act.transactionId } : {}),
      ...(act.citizenName ? { citizenName: act.citizenName } : {}),
    });
    return reply.code(201).send(feedItem(m, true));
  });

  app.get('/_sim/faults', async () => ctx.faults);
  app.post('/_sim/faults', async (req, reply) => {
    const p = faultSchema.safeParse(req.body);
    if (!p.success) return bad(reply, p.error.message);
    const f = ctx.addFault(Object.fromEntries(Object.entries(p.data).filter(([, v]) => v !== undefined)) as Parameters<SimContext['addFault']>[0]);
    return reply.code(201).send(f);
  });
  app.delete('/_sim/faults', async () => {
    ctx.faults.length = 0;
    return { ok: true };
  });

  app.post('/_sim/hold', async (req, reply) => {
    const p = z.object({ recipients: z.array(z.string()) }).strict().safeParse(req.body);
    if (!p.success) return bad(reply, p.error.message);
    for (const r of p.data.recipients) ctx.state.heldRecipients.add(r);
    return { held: [...ctx.state.heldRecipients] };
  });
  app.delete('/_sim/hold', async () => {
    ctx.state.heldRecipients.clear();
    return { held: [] };
  });

  app.get('/_sim/push/deliveries', async () => {
    await push.flush();
    return ctx.state.pushDeliveries;
  });
  app.get('/_sim/stats', async () => ctx.stats);
  app.post('/_sim/reset-limits', async () => {
    ctx.resetLimits();
    return { ok: true };
  });
  app.post('/_sim/tokens/revoke', async () => {
    ctx.revokeAllTokens();
    return { ok: true };
  });

  app.get('/_sim/accounts', async () => [...ctx.accounts.values()].map(({ password: _pw, ...rest }) => rest));
  app.post('/_sim/accounts', async (req, reply) => {
    const p = accountSchema.safeParse(req.body);
    if (!p.success) return bad(reply, p.error.message);
    ctx.addAccount(p.data);
    return reply.code(201).send({ username: p.data.username, iysCode: p.data.iysCode });
  });
  app.patch('/_sim/accounts/:username/subscription', async (req, reply) => {
    const a = ctx.accounts.get((req.params as { username: string }).username);
    if (!a) return reply.code(404).send({ error: 'not_found', message: 'unknown account' });
    const p = z.object({
      status: z.enum(['ACTIVE', 'PAUSED', 'EXPIRED', 'CLOSED', 'NONE']).optional(),
      apiIncluded: z.boolean().optional(), consentLimit: z.number().int().min(0).optional(),
    }).strict().safeParse(req.body);
    if (!p.success) return bad(reply, p.error.message);
    Object.assign(a.subscription, Object.fromEntries(Object.entries(p.data).filter(([, v]) => v !== undefined)));
    return a.subscription;
  });

  app.get('/_sim/consents', async (req) => {
    const q = req.query as { iysCode?: string; brandCode?: string };
    return [...ctx.state.current.values()]
      .filter((m) => (!q.iysCode || m.iysCode === Number(q.iysCode)) && (!q.brandCode || m.brandCode === Number(q.brandCode)))
      .map((m) => ({ iysCode: m.iysCode, brandCode: m.brandCode, ...feedItem(m, true) }));
  });

  /** Today's date in Turkish time, handy for report-date tests. */
  app.get('/_sim/today', async () => ({ date: toIysDate(ctx.clock.now()).slice(0, 10) }));
};
