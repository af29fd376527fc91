import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatewayConfig, Scope } from '../config/schema.ts';
import { brandCodesOf } from '../config/inbound-schema.ts';
import { gatewayError } from '../errors.ts';
import { hasBrand, hasScope, type KeyRing, type Principal } from './api-keys.ts';

declare module 'fastify' {
  interface FastifyRequest { principal: Principal | null }
  /** The scope a route needs; a list: any one of them (a read route the console shares). */
  interface FastifyContextConfig { scope?: Scope | readonly Scope[] }
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
    if (typeof scope === 'string' ? !hasScope(p, scope) : !scope.some((s) => hasScope(p, s))) return gatewayError('GW_ERR_FORBIDDEN', [`scope ${typeof scope === 'string' ? scope : scope.join(' or ')}`]);
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
 * Resolves the brand of a request: the given one if the key holds it (else 403) and the gateway
 * serves it (else 400 GW_ERR_UNKNOWN_BRAND: a typo'd brandCode is never answered with a decision,
 * issue 10 item 11); when omitted, the key's only brand (API.md: brandCode may be omitted when the
 * key holds exactly one brand). `servedBrands` is `servedBrandsOf(config)`; empty = the gateway
 * does not know its brands (no `brands`, no `iys`) and any brand a key holds is taken.
 * @throws GW_ERR_FORBIDDEN (403), GW_ERR_UNKNOWN_BRAND (400), GW_ERR_BRAND_REQUIRED (400), all with field `brandCode`
 */
export function requireBrand(req: FastifyRequest, brandCode: number | undefined, servedBrands: readonly number[]): number {
  const p = req.principal;
  if (!p) throw gatewayError('GW_ERR_UNAUTHORIZED');
  if (brandCode !== undefined) {
    if (!hasBrand(p, brandCode)) throw gatewayError('GW_ERR_FORBIDDEN', [`brand ${brandCode}`], { field: 'brandCode' });
    assertServedBrand(brandCode, servedBrands);
    return brandCode;
  }
  const held = p.brands === '*' ? servedBrands : p.brands;
  if (held.length === 1) return held[0]!;
  throw gatewayError('GW_ERR_BRAND_REQUIRED', [held.length === 0 ? 'the key may act for any brand' : `the key holds ${held.length} brands`], { field: 'brandCode' });
}

/**
 * Refuses a brand the gateway does not serve (when it knows the brands it serves).
 * @throws GW_ERR_UNKNOWN_BRAND (400, field `brandCode`)
 */
export function assertServedBrand(brandCode: number, servedBrands: readonly number[]): void {
  if (servedBrands.length > 0 && !servedBrands.includes(brandCode)) {
    throw gatewayError('GW_ERR_UNKNOWN_BRAND', [brandCode, servedBrands.join(', ')], { field: 'brandCode' });
  }
}

/**
 * The brands this gateway serves: config `brands` and `iys.brands` together, sorted; empty when
 * neither is set (then any brand a key holds is taken). A `*` key acts for exactly these.
 */
export function servedBrandsOf(config: Pick<GatewayConfig, 'brands' | 'iys'>): number[] {
  return [...new Set([...brandCodesOf(config.brands), ...(config.iys?.brands ?? [])])].sort((a, b) => a - b);
}

/**
 * The brand scope of a request (issue 10 item 9: brands stay apart). Every route that reads or
 * writes brand data goes through one of these, so a key never sees or changes another brand's:
 * - `ownBrand(req, b)`: a stored resource of brand `b` (an upload job, a report, an upstream):
 *   403 GW_ERR_FORBIDDEN when the key does not hold `b`;
 * - `ownItems(req, items, brandOf)`: a listing, filtered to the key's brands;
 * - `holdsBrand(req, b)`: the predicate both use (false without an authenticated key: fail closed).
 */
export function holdsBrand(req: FastifyRequest, brandCode: number): boolean {
  return req.principal !== null && hasBrand(req.principal, brandCode);
}

/** @see holdsBrand. @throws GW_ERR_FORBIDDEN (403, field `brandCode`) */
export function ownBrand(req: FastifyRequest, brandCode: number): void {
  if (!holdsBrand(req, brandCode)) throw gatewayError('GW_ERR_FORBIDDEN', [`brand ${brandCode}`], { field: 'brandCode' });
}

/** @see holdsBrand. @returns the items of `items` whose brand the key holds (a new array). */
export function ownItems<T>(req: FastifyRequest, items: Iterable<T>, brandOf: (item: T) => number): T[] {
  const out: T[] = [];
  for (const i of items) if (holdsBrand(req, brandOf(i))) out.push(i);
  return out;
}
