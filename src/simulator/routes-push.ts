/**
 * Push registration (pushRegistration, getPushRegistration, pushUnregistration;
 * iys-reference.md §2.8): https only (H531), Basic credentials required (H093), at most two
 * active connections per brand and type (H530); registering sends İYS's test payload and fails
 * with H191 on timeout or H530 when the receiver does not answer 2xx.
 */
import type { FastifyPluginAsync } from 'fastify';
import { CONSENT_TYPES, type ConsentType } from '../domain/types.ts';
import { hError, type IysErrorItem } from '../iys/h-codes.ts';
import type { SimContext } from './context.ts';
import { PUSH_TEST_ITEM, type PushDelivery } from './push-delivery.ts';
import { accountOf, intParam, sendError, sendErrors } from './reply.ts';

const MAX_PER_TYPE = 2;

/** Registers push registration, listing and unregistration; `push` sends the test payload. */
export const pushRoutes = (ctx: SimContext, push: PushDelivery): FastifyPluginAsync => async (app) => {
  /** Field errors of one connection object. */
  const connErrors = (c: Record<string, unknown>): IysErrorItem[] => {
    const errs: IysErrorItem[] = [];
    if (typeof c.url !== 'string' || c.url === '') errs.push(hError('H531', { location: ['url'] }));
    else if (!c.url.startsWith('https://') && !(ctx.config.pushAllowHttp && c.url.startsWith('http://'))) errs.push(hError('H531'));
    if (c.type === undefined || c.type === '') errs.push(hError('H111', { location: ['type'] }));
    else if (!(CONSENT_TYPES as readonly unknown[]).includes(c.type)) errs.push(hError('H117', { location: ['type'], value: c.type }));
    if (typeof c.username !== 'string' || c.username === '') errs.push({ ...hError('H093', { location: ['username'] }), message: 'Kullanıcı adı (username) bulunamadı.' });
    if (typeof c.password !== 'string' || c.password === '') errs.push({ ...hError('H093', { location: ['password'] }), message: 'Şifre (password) bulunamadı.' });
    return errs;
  };
  const isObj = (b: unknown): b is Record<string, unknown> => typeof b === 'object' && b !== null && !Array.isArray(b);

  app.post('/sps/:iysCode/brands/:brandCode/push/registration',
    { config: { iysSim: { operationId: 'pushRegistration', auth: true } } }, async (req, reply) => {
      const a = accountOf(req);
      const brandCode = intParam(req, 'brandCode');
      if (!isObj(req.body) || !Array.isArray(req.body.connection) || req.body.connection.length === 0) return sendError(reply, 'H014');
      const conns = req.body.connection as unknown[];
      const errs = conns.flatMap((c) => (isObj(c) ? connErrors(c) : [hError('H014')]));
      if (errs.length) return sendErrors(reply, errs);
      for (const c of conns as { url: string; type: ConsentType; username: string; password: string }[]) {
        const active = ctx.state.pushRegistrations.filter((r) => r.iysCode === a.iysCode && r.brandCode === brandCode && r.type === c.type);
        if (active.some((r) => r.url === c.url)) continue;
        if (active.length >= MAX_PER_TYPE) return sendError(reply, 'H530');
        const test = await push.post(c, [PUSH_TEST_ITEM]);
        if (!test.ok) return sendError(reply, test.error === 'timeout' ? 'H191' : 'H530');
        ctx.state.pushRegistrations.push({ iysCode: a.iysCode, brandCode, url: c.url, type: c.type, username: c.username, password: c.password, registerTime: ctx.nowIys() });
      }
      return reply.send({ message: 'Bağlantı başarıyla oluşturuldu.' });
    });

  app.get('/sps/:iysCode/brands/:brandCode/push/registration',
    { config: { iysSim: { operationId: 'getPushRegistration', auth: true } } }, async (req, reply) => {
      const a = accountOf(req);
      const brandCode = intParam(req, 'brandCode');
      return reply.send(ctx.state.pushRegistrations.filter((r) => r.iysCode === a.iysCode && r.brandCode === brandCode)
        .map((r) => ({ url: r.url, type: r.type, status: 'Bağlantı Oluşturuldu', registerTime: r.registerTime })));
    });

  app.post('/sps/:iysCode/brands/:brandCode/push/unregistration',
    { config: { iysSim: { operationId: 'pushUnregistration', auth: true } } }, async (req, reply) => {
      const a = accountOf(req);
      const brandCode = intParam(req, 'brandCode');
      if (!isObj(req.body)) return sendError(reply, 'H014');
      const errs = connErrors(req.body);
      if (errs.length) return sendErrors(reply, errs);
      const b = req.body as { url: string; type: string; username: string; password: string };
      const i = ctx.state.pushRegistrations.findIndex((r) => r.iysCode === a.iysCode && r.brandCode === brandCode
        && r.url === b.url && r.type === b.type && r.username === b.username && r.password === b.password);
      if (i < 0) return sendErrors(reply, [{ code: 'H530', message: 'Bağlantı kaldırılamadı.' }]);
      ctx.state.pushRegistrations.splice(i, 1);
      return reply.send({ message: 'Bağlantı başarıyla kaldırıldı.' });
    });
};
