import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Scope } from '../config/schema.ts';
import { gatewayError } from '../errors.ts';
import { hasBrand, hasScope, type KeyRing, type Principal } from './api-keys.ts';

declare module 'fastify' {
  interface FastifyRequest { principal: Principal | null }
  interface FastifyContextConfig { scope?: Scope }
}

/**
 * Bearer-key auth for every `/v1/*` and `/proxy/*` route (API.md "Conventions"): missing or
 * unknown key → 401 GW_ERR_UNAUTHORIZED; a route's `config.scope` not held → 403
 * GW_ERR_FORBIDDEN. Brand checks happen in routes through `requireBrand()`.
 */
export default fp(async function auth(app: FastifyInstance, opts: { keys: KeyRing; servedBrands: readonly number[] }) {
  const cache = new Map<string, Principal>();
  app.decorateRequest('principal', null);
  const authorize = (req: FastifyRequest): Error | null => {
    const scope = req.routeOptions.config?.scope;
    if (scope === undefined) return null;
    const h = req.headers.authorization;
    if (typeof h !== 'string' || !h.startsWith('Bearer ')) return gatewayError('GW_ERR_UNAUTHORIZED');
    const token = h.slice(7).trim();
    let p = cache.get(token);
    if (!p) {
      const v = opts.keys.verify(token);
      if (!v) return gatewayError('GW_ERR_UNAUTHORIZED');
      p = v;
      if (cache.size > 1000) cache.clear();
      cache.set(token, p);
    }
    if (!hasScope(p, scope)) return gatewayError('GW_ERR_FORBIDDEN', [`scope ${scope}`]);
    req.principal = p;
    return null;
  };
  // a callback hook, not an async one: no promise per request on the hot path
  app.addHook('onRequest', (req, _reply, done) => {
    let err: Error | null;
    try { err = authorize(req); } catch (e) { err = e as Error; }
    if (err) done(err); else done();
  });
  app.decorate('servedBrands', opts.servedBrands);
}, { name: 'iysgate-auth' });

/**
 * Resolves the brand of a request: the given one if the key holds it (else 403); when omitted, the
 * key's only brand (API.md: brandCode may be omitted when the key holds exactly one brand).
 * @throws GW_ERR_FORBIDDEN, GW_ERR_BRAND_REQUIRED (400, field `brandCode`)
 */
export function requireBrand(req: FastifyRequest, brandCode: number | undefined, servedBrands: readonly number[]): number {
  const p = req.principal!;
  if (brandCode !== undefined) {
    if (!hasBrand(p, brandCode)) throw gatewayError('GW_ERR_FORBIDDEN', [`brand ${brandCode}`], { field: 'brandCode' });
    return brandCode;
  }
  const held = p.brands === '*' ? servedBrands : p.brands;
  if (held.length === 1) return held[0]!;
  throw gatewayError('GW_ERR_BRAND_REQUIRED', [held.length === 0 ? 'the key may act for any brand' : `the key holds ${held.length} brands`], { field: 'brandCode' });
}
