/**
 * Reconciliation ("mutabakat", iys-reference.md §2.9): daily movement file (agreementFile),
 * SHA-384 agreement info and confirmation (agreementsDate, agreementDatePut) and the daily
 * summary (changeSummary), and a stand-in for the day's time-stamp (agreementTimeStamp). Report dates are `YYYY-MM-DD` (H501), at most 7 days back (H502).
 *
 * The file: header `creationDate,transactionId,recipient,recipientType,type,status,consentDate,source`
 * then one row per movement created on that Turkish day, sorted by creationDate then
 * transactionId, every line ending with `\n`. The hash is SHA-384 (lower-case hex) over exactly
 * those bytes.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { CONSENT_TYPES, RECIPIENT_TYPES } from '../domain/types.ts';
import { toIysDate } from '../iys/consent-rules.ts';
import type { SimContext } from './context.ts';
import { accountOf, intParam, sendError } from './reply.ts';
import type { SimMovement } from './state.ts';

export const DAILY_FILE_HEADER = 'creationDate,transactionId,recipient,recipientType,type,status,consentDate,source';

/** Renders movements (already sorted) as İYS's daily CSV. */
export function dailyCsv(movements: readonly SimMovement[]): string {
  return [DAILY_FILE_HEADER, ...movements.map((m) => [
    m.creationDate, m.transactionId, m.recipient, m.recipientType, m.type, m.status, m.consentDate ?? '', m.source ?? '',
  ].join(','))].join('\n') + '\n';
}

/** SHA-384 lower-case hex of a daily file. */
export const sha384Hex = (text: string): string => createHash('sha384').update(text, 'utf8').digest('hex');

/** Registers daily file, agreement (GET/PUT), time-stamp and daily-summary routes. */
export const reconciliationRoutes = (ctx: SimContext): FastifyPluginAsync => async (app) => {
  /** Validates `reportDate`; sends H501/H502 and returns null on error. */
  const reportDateOf = (req: FastifyRequest, reply: FastifyReply): string | null => {
    const d = (req.params as { reportDate: string }).reportDate;
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d);
    const real = m && new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) === d;
    if (!real) {
      sendError(reply, 'H501', { location: ['reportDate'], value: d });
      return null;
    }
    const today = toIysDate(ctx.clock.now()).slice(0, 10);
    const days = (Date.parse(`${today}T00:00:00Z`) - Date.parse(`${d}T00:00:00Z`)) / 86_400_000;
    if (days > 7 || days < 0) {
      sendError(reply, 'H502', { location: ['reportDate'], value: d });
      return null;
    }
    return d;
  };
  const dayMovements = (req: FastifyRequest, day: string): SimMovement[] =>
    ctx.state.brandMovements(accountOf(req).iysCode, intParam(req, 'brandCode')).filter((m) => m.creationDate.startsWith(day));
  const cfg = (operationId: string) => ({ config: { iysSim: { operationId, auth: true } } });
  const agreementKey = (req: FastifyRequest, day: string): string => `${accountOf(req).iysCode}|${intParam(req, 'brandCode')}|${day}`;

  app.get('/sps/:iysCode/brands/:brandCode/changes/:reportDate/file', cfg('agreementFile'), async (req, reply) => {
    const day = reportDateOf(req, reply);
    if (day === null) return reply;
    const ms = dayMovements(req, day);
    if (ms.length === 0) return reply.code(204).send();
    return reply.type('text/csv; charset=utf-8').send(dailyCsv(ms));
  });

  app.get('/sps/:iysCode/brands/:brandCode/agreements/:reportDate', cfg('agreementsDate'), async (req, reply) => {
    const day = reportDateOf(req, reply);
    if (day === null) return reply;
    const ms = dayMovements(req, day);
    if (ms.length === 0) return reply.code(204).send();
    const completed = day < toIysDate(ctx.clock.now()).slice(0, 10);
    return reply.send({
      processStatus: completed ? 'completed' : 'inprogress',
      ...(completed ? { hashValue: sha384Hex(dailyCsv(ms)) } : {}),
      hashMethod: 'SHA-384',
      agreementStatus: ctx.state.agreements.get(agreementKey(req, day)) === true,
    });
  });

  app.put('/sps/:iysCode/brands/:brandCode/agreements/:reportDate', cfg('agreementDatePut'), async (req, reply) => {
    const day = reportDateOf(req, reply);
    if (day === null) return reply;
    const body = req.body as { agreementStatus?: unknown } | undefined;
    if (body?.agreementStatus !== true) return sendError(reply, 'H512', { location: ['agreementStatus'] });
    if (dayMovements(req, day).length === 0) return reply.code(204).send();
    ctx.state.agreements.set(agreementKey(req, day), true);
    return reply.send({ agreementCaptured: true });
  });

  // The RFC-3161 time-stamp reply (.tsr) of a day's file. The simulator has no time-stamping
  // authority: it answers a plain-text stand-in naming the file's SHA-384, never a real token.
  app.get('/sps/:iysCode/brands/:brandCode/agreements/:reportDate/timestamp', cfg('agreementTimeStamp'), async (req, reply) => {
    const day = reportDateOf(req, reply);
    if (day === null) return reply;
    const ms = dayMovements(req, day);
    if (ms.length === 0) return reply.code(204).send();
    return reply.type('text/plain; charset=utf-8')
      .send(`SIMULATED-TSR reportDate=${day} hashMethod=SHA-384 hashValue=${sha384Hex(dailyCsv(ms))}\n`);
  });

  app.get('/sps/:iysCode/brands/:brandCode/changes/:reportDate/recipients/:recipientType', cfg('changeSummary'), async (req, reply) => {
    const day = reportDateOf(req, reply);
    if (day === null) return reply;
    const rt = (req.params as { recipientType: string }).recipientType;
    if (!(RECIPIENT_TYPES as readonly string[]).includes(rt)) return sendError(reply, 'H116', { location: ['recipientType'], value: rt });
    const ms = dayMovements(req, day).filter((m) => m.recipientType === rt);
    return reply.send({
      changeStats: CONSENT_TYPES.map((type) => ({
        type,
        consents: (['HS', 'IYS'] as const).map((source) => {
          const of = ms.filter((m) => m.type === type && (source === 'IYS' ? m.source?.startsWith('IYS_') === true : !m.source?.startsWith('IYS_')));
          const approval = of.filter((m) => m.status === 'ONAY').length;
          const rejection = of.length - approval;
          return { source, approval, rejection, pending: 0, total: of.length };
        }),
      })),
    });
  });
};
