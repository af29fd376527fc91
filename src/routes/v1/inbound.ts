import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalizePhone } from '../../domain/recipient.ts';
import { istanbulDate } from '../../domain/turkish-time.ts';
import { gatewayError, isGatewayError, storeUnavailable } from '../../errors.ts';
import { holdsBrand } from '../../plugins/auth.ts';
import type { InboundOutcome, InboundReply } from '../../transports/inbound/handle-reply.ts';
import type { InboundDoor } from '../../transports/inbound/index.ts';
import type { ReviewItem } from '../../transports/inbound/inbound-state.ts';
import { READERS, UnreadableDelivery, readGeneric } from '../../transports/inbound/providers.ts';
import { maskPii } from '../../plugins/redact.ts';
import type { RouteDeps } from '../deps.ts';

const sha = (s: string) => createHash('sha256').update(s).digest();
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Inbound replies (issue 14, README "Refusals from replies"):
 * - `POST /v1/inbound/<upstream>` and `/v1/inbound/<upstream>/<secret>`: a provider's MO push
 *   (providers.ts: Verimor's JSON array, Netgsm's webhook items, the generic shape for a `webhook`
 *   upstream), authenticated by `inbound.upstreams.<upstream>.secret` as the last path segment or
 *   the HTTP Basic password (constant-time); unknown upstream 404, bad secret 401.
 * - `POST /v1/inbound` (scope `rejections`): the generic shape `{from, to, text, receivedAt?, messageId}` (or an array).
 * - `GET /v1/optouts/review`, `POST /v1/optouts/review/<id>` (scope `rejections`): the review queue.
 * Bodies are read as bytes and decoded as strict UTF-8 (invalid → 400 GW_ERR_INBOUND_UNREADABLE:
 * a reply is never guessed at); `bodyLimitBytes` bounds them (413). Every item is handled
 * (handle-reply.ts) before the answer: a refusal is effective and durable, a review item stored,
 * the delivery marked handled, so a 2xx means nothing is lost; a store failure answers 503 and the
 * provider retries (de-duplication makes the retry safe).
 */
export default async function inboundRoutes(app: FastifyInstance, deps: RouteDeps & { inbound: InboundDoor }) {
  const replies = deps.inbound.replies;
  const state = deps.inbound.state;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const parse = (buf: unknown): unknown => {
    if (!Buffer.isBuffer(buf) || buf.length === 0) throw gatewayError('GW_ERR_INBOUND_UNREADABLE', ['empty body']);
    let text: string;
    try { text = STRICT_UTF8.decode(buf); } catch { throw gatewayError('GW_ERR_INBOUND_UNREADABLE', ['body is not valid UTF-8']); }
    try { return JSON.parse(text); } catch { throw gatewayError('GW_ERR_INBOUND_UNREADABLE', ['body is not JSON']); }
  };
  const handleAll = async (list: InboundReply[]): Promise<InboundOutcome[]> => {
    try {
      return await replies.handleMany(list);
    } catch (err) {
      if (isGatewayError(err) && err.statusCode < 500) throw err;
      throw storeUnavailable(err, 'the reply could not be recorded durably');
    }
  };
  const read = (reader: (b: unknown, via: string) => InboundReply[], body: unknown, via: string): InboundReply[] => {
    try { return reader(body, via); } catch (err) {
      if (err instanceof UnreadableDelivery) throw gatewayError('GW_ERR_INBOUND_UNREADABLE', [err.message]);
      throw err;
    }
  };
  const summary = (out: InboundOutcome[]) => ({
    received: out.length,
    refused: out.filter((o) => o.status === 'refused').length,
    review: out.filter((o) => o.status === 'review').length,
    ignored: out.filter((o) => o.status === 'ignored').length,
    duplicate: out.filter((o) => o.status === 'duplicate').length,
    results: out,
  });

  const upstreams = new Map(deps.config.upstreams.map((u) => [u.name, u]));
  const push = async (req: FastifyRequest<{ Params: { upstream: string; secret?: string } }>, reply: FastifyReply) => {
    const name = req.params.upstream;
    const u = upstreams.get(name);
    const secret = deps.config.inbound.upstreams[name]?.secret;
    if (!u) throw gatewayError('GW_ERR_UPSTREAM_NOT_FOUND', [name]);
    // an upstream that takes no pushes: no credential can be right (401, like a wrong secret)
    if (!secret) { reply.header('www-authenticate', `Basic realm="iys-gate inbound ${name}"`); throw gatewayError('GW_ERR_UNAUTHORIZED'); }
    const h = req.headers.authorization ?? '';
    const basic = h.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64').toString('utf8') : '';
    const given = req.params.secret ?? basic.slice(basic.indexOf(':') + 1);
    if (!timingSafeEqual(sha(given), sha(secret))) {
      reply.header('www-authenticate', `Basic realm="iys-gate inbound ${name}"`);
      throw gatewayError('GW_ERR_UNAUTHORIZED');
    }
    const reader = READERS[u.adapter] ?? readGeneric;
    return summary(await handleAll(read(reader, parse(req.body), name)));
  };
  const pushSchema = { summary: 'A provider\'s mobile-originated (reply) push: read for refusals', tags: ['inbound'], security: [{ basic: [] }] };
  app.post('/v1/inbound/:upstream', { schema: pushSchema }, push);
  app.post('/v1/inbound/:upstream/:secret', { schema: { ...pushSchema, summary: 'The same push, with the secret in the path' } }, push);

  app.post('/v1/inbound', {
    config: { scope: 'rejections' },
    schema: { summary: 'A reply in the generic shape {from, to, text, receivedAt, messageId}: read for refusals', tags: ['inbound'] },
  }, async (req) => {
    const body = parse(req.body);
    // a brand-scoped key records replies only for its brands (issue 10 item 9): a `brandCode` it does
    // not hold, or a destination mapped to a brand it does not hold (or to none), is refused unrecorded
    for (const it of Array.isArray(body) ? body : [body]) {
      const b = (it as { brandCode?: unknown } | null)?.brandCode;
      if (b !== undefined && !holdsBrand(req, Number(b))) throw gatewayError('GW_ERR_FORBIDDEN', [`brand ${String(b)}`], { field: 'brandCode' });
    }
    const list = read(readGeneric, body, 'api');
    if (req.principal?.brands !== '*') {
      for (const r of list) {
        const brands = replies.brandsOf(r.to);
        if (brands === null || !brands.every((x) => holdsBrand(req, x))) throw gatewayError('GW_ERR_FORBIDDEN', ['the reply\'s destination is not a number of this key\'s brands'], { field: 'to' });
      }
    }
    return summary(await handleAll(list));
  });

  const view = (it: ReviewItem, today: string) => ({
    id: it.id, from: it.from, to: it.to, text: it.text, receivedAt: it.receivedAt, via: it.via, reason: it.reason,
    brandCodes: it.brandCodes, dueDate: it.dueDate, overdue: it.state === 'open' && it.dueDate < today, state: it.state,
    ...(it.resolvedAt ? { resolvedAt: it.resolvedAt } : {}),
  });
  // a key sees the items of its brands; items of no known brand (unknown destination) only a `*` key
  const visible = (req: FastifyRequest, it: ReviewItem) => (it.brandCodes.length === 0 ? req.principal?.brands === '*' : it.brandCodes.some((b) => holdsBrand(req, b)));

  app.get<{ Querystring: { state?: 'open' | 'refused' | 'dismissed' | 'all'; limit?: number; after?: string } }>('/v1/optouts/review', {
    // read by the operator console too (scope console); deciding an item needs `rejections`
    config: { scope: ['rejections', 'console'] },
    schema: {
      summary: 'Replies kept for review (paged, oldest first)', tags: ['inbound'],
      querystring: { type: 'object', additionalProperties: false, properties: {
        state: { type: 'string', enum: ['open', 'refused', 'dismissed', 'all'], default: 'open' },
        limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, after: { type: 'string', maxLength: 64 },
      } },
    },
  }, async (req) => {
    const { state: want = 'open', limit = 100, after } = req.query;
    const today = istanbulDate(new Date(deps.now()));
    let items = state.reviews((it) => (want === 'all' || it.state === want) && visible(req, it));
    if (after) { const i = items.findIndex((it) => it.id === after); items = i >= 0 ? items.slice(i + 1) : items; }
    const page = items.slice(0, limit);
    const c = state.counts(today);
    return { items: page.map((it) => view(it, today)), next: items.length > limit ? page.at(-1)!.id : null, open: c.open, overdue: c.overdue };
  });

  app.post<{ Params: { id: string }; Body: unknown }>('/v1/optouts/review/:id', {
    config: { scope: 'rejections' },
    schema: { summary: 'Decide a review item: refuse (records the refusal) or dismiss', tags: ['inbound'] },
  }, async (req) => {
    const body = parse(req.body) as { action?: unknown; brandCodes?: unknown; brandCode?: unknown };
    // a brand the key does not hold is refused before anything else (issue 10 item 9)
    for (const b of [body?.brandCode, ...(Array.isArray(body?.brandCodes) ? body.brandCodes : [])]) {
      if (b !== undefined && !holdsBrand(req, Number(b))) throw gatewayError('GW_ERR_FORBIDDEN', [`brand ${String(b)}`], { field: 'brandCodes' });
    }
    if (body?.action !== 'refuse' && body?.action !== 'dismiss') throw gatewayError('GW_ERR_VALIDATION', ['action must be refuse or dismiss'], { field: 'action' });
    const it = state.getReview(req.params.id);
    if (!it || it.state !== 'open' || !visible(req, it)) throw gatewayError('GW_ERR_REVIEW_NOT_FOUND', [req.params.id.slice(0, 64)]);
    if (body.action === 'dismiss') {
      await state.resolveReview(it.id, 'dismissed');
      return { id: it.id, state: 'dismissed', refusals: [] };
    }
    let brands = it.brandCodes;
    if (Array.isArray(body.brandCodes)) {
      if (!body.brandCodes.every((b) => Number.isSafeInteger(b) && (b as number) > 0)) throw gatewayError('GW_ERR_VALIDATION', ['brandCodes must be positive integers'], { field: 'brandCodes' });
      brands = body.brandCodes as number[];
    }
    if (brands.length === 0) throw gatewayError('GW_ERR_VALIDATION', ['the reply\'s destination maps to no brand: give brandCodes'], { field: 'brandCodes' });
    for (const b of brands) if (!holdsBrand(req, b)) throw gatewayError('GW_ERR_FORBIDDEN', [`brand ${b}`], { field: 'brandCodes' });
    const n = normalizePhone(it.from);
    if (!n.ok) throw gatewayError('GW_ERR_INVALID_RECIPIENT', [n.message], { field: 'from' });
    let refusals: InboundOutcome['refusals'];
    try { refusals = await replies.refuse(n.canonical, brands, new Date(it.receivedAt)); } catch (err) {
      if (isGatewayError(err) && err.statusCode < 500) throw err;
      throw storeUnavailable(err, 'the refusal could not be recorded durably');
    }
    await state.resolveReview(it.id, 'refused');
    req.log.info({ id: it.id, from: maskPii(it.from) }, 'review item refused');
    return { id: it.id, state: 'refused', refusals };
  });
}
