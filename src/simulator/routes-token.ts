/**
 * `POST /oauth2/token` (operation createToken2): password and refresh_token grants, JSON or
 * form body; 100 token requests per hour per IP, then H084 with the penalty hour restarting on
 * every further call (iys-reference.md §1). OAuth errors use İYS's `{error, error_description}`.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { SimContext } from './context.ts';
import { sendError } from './reply.ts';

const oauthError = (reply: FastifyReply, error: 'invalid_request' | 'invalid_grant', description: string): FastifyReply =>
  reply.code(400).send({ error, error_description: description });

/**
 * Checks one credential field.
 * @returns the error description, or null when the field is a non-empty string
 */
function fieldProblem(v: unknown, missing: string, empty: string, unsupported: string): [string, 'invalid_request' | 'invalid_grant'] | null {
  if (v === undefined || v === null) return [missing, 'invalid_request'];
  if (typeof v !== 'string') return [unsupported, 'invalid_request'];
  if (v === '') return [empty, 'invalid_grant'];
  return null;
}

/** Registers `POST /oauth2/token` on the simulator app. */
export const tokenRoutes = (ctx: SimContext): FastifyPluginAsync => async (app) => {
  app.post('/oauth2/token', { config: { iysSim: { operationId: 'createToken2' } } }, async (req, reply) => {
    ctx.stats.tokenRequests++;
    if (!ctx.tokenAllowed(req.ip)) return sendError(reply, 'H084');
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const grant = body.grant_type;
    if (grant === undefined || grant === null) return oauthError(reply, 'invalid_request', 'Giriş yöntemi belirtilmemiş.');
    if (grant === '') return oauthError(reply, 'invalid_grant', 'Giriş yöntemi boş olamaz.');
    if (typeof grant !== 'string') return oauthError(reply, 'invalid_grant', 'Desteklenmeyen giriş yöntemi.');
    if (grant === 'password') {
      const u = fieldProblem(body.username, 'Kullanıcı adı verilmemiş.', 'Kullanıcı adı boş bırakılamaz.', 'Desteklenmeyen kullanıcı adı türü.');
      if (u) return oauthError(reply, u[1], u[0]);
      const p = fieldProblem(body.password, 'Şifre verilmemiş.', 'Şifre boş bırakılamaz.', 'Desteklenmeyen şifre türü.');
      if (p) return oauthError(reply, p[1], p[0]);
      const a = ctx.accounts.get(body.username as string);
      if (!a || a.password !== body.password) return oauthError(reply, 'invalid_request', 'Kullanıcı kimlik bilgileri geçersiz.');
      if (a.role !== 'API_USER') return oauthError(reply, 'invalid_request', `Beklenmeyen kullanıcı rolü: ${a.role}.`);
      ctx.stats.passwordGrants++;
      return reply.send(ctx.issueTokens(a));
    }
    if (grant === 'refresh_token') {
      const r = fieldProblem(body.refresh_token, 'Yenileme jetonu verilmemiş.', 'Yenileme jetonu boş olamaz.', 'Desteklenmeyen yenileme jetonu türü.');
      if (r) return oauthError(reply, r[1], r[0]);
      const a = ctx.useRefreshToken(body.refresh_token as string);
      if (!a) return oauthError(reply, 'invalid_grant', 'Geçersiz yenileme jetonu.');
      ctx.stats.refreshGrants++;
      return reply.send(ctx.issueTokens(a));
    }
    return oauthError(reply, 'invalid_request', 'Bilinmeyen giriş yöntemi.');
  });
};
