import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { PromotionalPolicy } from '../../domain/promo-lint.ts';
import { gatewayError, isGatewayError, type GatewayError } from '../../errors.ts';
import { hasBrand, hasScope, type KeyRing, type Principal } from '../../plugins/api-keys.ts';
import { assertServedBrand, servedBrandsOf } from '../../plugins/auth.ts';
import { upstreamRegistry, type Upstream } from '../../transports/http-proxy/registry.ts';
import { forwardRequestHeaders, forwardResponseHeaders } from '../../transports/http-proxy/hop-by-hop.ts';
import { hasDuplicateKeys } from '../../transports/http-proxy/json-keys.ts';
import { maskUrlForLog } from '../../transports/http-proxy/log-url.ts';
import { providerPath, providerQuery, UnsafePath, type ProviderPath } from '../../transports/http-proxy/provider-path.ts';
import { removalReports, reportChanged, type RemovalReport, type RemovalReports } from '../../check/removal-reports.ts';
import { screenMessage, type Screening } from '../../transports/http-proxy/screen.ts';
import { sendgridListUnsubscribe } from '../../transports/http-proxy/sendgrid.ts';
import { listUnsubscribeFields } from '../../transports/smtp/unsubscribe-headers.ts';
import { UpstreamClient } from '../../transports/http-proxy/upstream-client.ts';
import type { UpstreamConfig } from '../../transports/http-proxy/upstream-config.ts';
import { RefusedRequest, UnreadableRequest, type ProviderAdapter, type ProviderMessage } from '../../transports/http-proxy/types.ts';
import { providerAuthorized } from '../../transports/http-proxy/provider-auth.ts';
import type { RouteDeps } from '../deps.ts';
import { ariEventsUpgrade, ARI_EVENTS_PATH } from './ari-events.ts';
import { screenList, splitSpooled, SpooledBody, spoolingParser, type ListStreamLimits, type SplitList, type StreamBody } from './list-stream.ts';

/** Header carrying the iys-gate API key on `/proxy/*` (providers' own `Authorization` passes through). */
export const GATE_KEY_HEADER = 'x-iys-gate-key';

/** What the proxy needs besides RouteDeps: the key ring (gateway keys travel in X-IYS-Gate-Key, not Authorization). */
export interface ProxyDeps extends Pick<RouteDeps, 'config' | 'checks'> {
  keys?: KeyRing;
  /** Report store (tests inject one with a fake clock). Default: in memory, 15 min, 10,000 reports. */
  reports?: RemovalReports;
}


/**
 * The provider proxy (issue 3, API.md `upstreams`): `ANY /proxy/<name>/<provider path>` is read by
 * the upstream's adapter, screened (promotional policy + one batched consent lookup), rewritten
 * without blocked recipients and forwarded to `<url>/<provider path>` with the same method, query,
 * provider auth and body shape. Requests that send no message (reports, balance) pass unchanged.
 *
 * Gateway auth: header `X-IYS-Gate-Key: <key>` with scope `proxy` and the brand (401/403), unless
 * the upstream sets `gatewayAuth: none`.
 *
 * Answers to a message request carry `X-IYS-Gate-Request-Id` and `X-IYS-Gate-Counts:
 * received=N, forwarded=N, removed=N`; when something was removed or the promotional policy acted,
 * also `X-IYS-Gate-Report: <id>` — the full list is at `GET /proxy/_reports/<id>` (the provider's
 * response body is relayed untouched, so existing clients keep working).
 * Not forwarded: every recipient blocked → 422 GW_ERR_UPSTREAM_ALL_BLOCKED (body lists `removed`);
 * policy `block` → 422 GW_ERR_UPSTREAM_PROMOTIONAL_INFORMATIONAL. Upstream failures → 502/503/504
 * GW_ERR_UPSTREAM_* with `outcome: "not_sent" | "delivery_unknown"`; never retried.
 */
export async function proxyRoutes(app: FastifyInstance, deps: ProxyDeps): Promise<void> {
  const upstreams = upstreamRegistry(deps.config);
  const served = servedBrandsOf(deps.config);
  app.addHook('onClose', async () => { await upstreams.close(); });
  const reports = deps.reports ?? removalReports(deps.config);
  // one-click links of `upstreams[].listUnsubscribe: add` (the same /u/TOKEN endpoint as the SMTP relay's)
  const unsubscribe = deps.config.unsubscribe ?? deps.config.smtp?.unsubscribe;
  const needsLinks = upstreams.list().filter((x) => x.config.listUnsubscribe === 'add').map((x) => x.config.name);
  if (needsLinks.length > 0 && !unsubscribe) {
    throw gatewayError('GW_ERR_CONFIG_INVALID', [`upstreams ${needsLinks.join(', ')}: listUnsubscribe add needs unsubscribe {baseUrl, secret} (or smtp.unsubscribe)`]);
  }
  const defaultPolicy: PromotionalPolicy = (deps.config.policy as { promotionalInformational?: PromotionalPolicy }).promotionalInformational ?? 'treat-as-commercial';

  // Bodies stay raw bytes: forwarded byte for byte when nothing is removed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.config.bodyLimitBytes }, (_req, body, done) => done(null, body));

  // Verified keys, by presented value (sha256 per request costs ~2 µs; bounded like plugins/auth.ts).
  const verified = new Map<string, Principal>();
  const authenticate = (req: FastifyRequest, u: UpstreamConfig | null): Principal | null => {
    if (u?.gatewayAuth === 'none' || u?.gatewayAuth === 'provider') return null; // provider: checked once the body is read
    const key = req.headers[GATE_KEY_HEADER];
    let p = typeof key === 'string' ? verified.get(key) ?? null : null;
    if (!p && typeof key === 'string' && deps.keys) {
      p = deps.keys.verify(key.trim());
      if (p) { if (verified.size > 1000) verified.clear(); verified.set(key, p); }
    }
    if (!p) throw gatewayError('GW_ERR_UNAUTHORIZED');
    if (!hasScope(p, 'proxy')) throw gatewayError('GW_ERR_FORBIDDEN', ['scope proxy']);
    return p;
  };

  app.get<{ Params: { id: string } }>('/proxy/_reports/:id', {
    schema: {
      summary: 'The removal report of a screened provider request (X-IYS-Gate-Report), 15 min', tags: ['proxy'], security: [{ gateKey: [] }],
      params: { type: 'object', properties: { id: { type: 'string' } } },
    },
  }, async (req, reply) => {
    const r = await reports.find(req.params.id);
    if (!r) throw gatewayError('GW_ERR_UPSTREAM_REPORT_NOT_FOUND', [req.params.id]);
    if (!r.open) {
      const p = authenticate(req, null);
      if (!hasBrand(p!, r.brandCode)) throw gatewayError('GW_ERR_FORBIDDEN', [`brand ${r.brandCode}`]);
    }
    reply.header('cache-control', 'no-store');
    return r;
  });

  const handler = async (req: FastifyRequest<{ Params: { upstream: string; '*'?: string } }>, reply: FastifyReply) => {
    const u = upstreams.get(req.params.upstream);
    if (!u) {
      // which upstreams exist is not told to a caller without a key (review: it answered 404 first)
      authenticate(req, null);
      throw gatewayError('GW_ERR_UPSTREAM_NOT_FOUND', [req.params.upstream]);
    }
    // errorFormat provider: every coded answer of this request in the provider's own error shape
    const shape = (u.config.errorFormat ?? (u.config.gatewayAuth === 'provider' ? 'provider' : 'gateway')) === 'provider' && u.adapter.refusal
      ? { adapter: u.adapter, path: '' } : null;
    if (!shape) return screenAndForward(req, reply, u);
    providerShaped.set(req, shape);
    try {
      return await screenAndForward(req, reply, u);
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      return coded(reply, err, { requestId: req.id, ...(err.field ? { field: err.field } : {}) });
    }
  };

  const screenAndForward = async (req: FastifyRequest, reply: FastifyReply, u: Upstream) => {
    const principal = authenticate(req, u.config);
    // an upstream sends for its brand: a key that does not hold it uses none of its paths (issue 10 item 9)
    if (principal && !hasBrand(principal, u.config.brandCode)) throw gatewayError('GW_ERR_FORBIDDEN', [`brand ${u.config.brandCode}`], { field: 'brandCode' });
    // C37: the path is read from the raw request target (not fastify's once-decoded params) the
    // way a provider's server may read it; the screen matches `key`, the upstream receives `wire`
    // (the same path, encoded once). A path that cannot be read one way only is refused unsent.
    const target = ariRooted.has(req) ? req.url : req.url.replace(/^\/proxy\/[^/?#]*/, '');
    const q = target.indexOf('?');
    let path: ProviderPath;
    let query: string;
    try {
      path = providerPath(q === -1 ? target : target.slice(0, q));
      query = q === -1 ? '' : '?' + providerQuery(target.slice(q + 1));
    } catch (err) {
      if (err instanceof UnsafePath) throw gatewayError('GW_ERR_UPSTREAM_UNREADABLE', [u.config.adapter, `${err.message}; refused unsent`], { field: 'path' });
      throw err;
    }
    const pathAndQuery = path.wire + query;
    const shape = providerShaped.get(req);
    if (shape) shape.path = path.key;
    let raw = Buffer.isBuffer(req.body) ? req.body : null;
    // a long campaign list spooled to disk (list-stream.ts): the adapter reads its skeleton
    let list: SplitList | null = null;
    if (req.body instanceof SpooledBody) {
      let split: SplitList | { whole: Buffer };
      try {
        split = await splitSpooled(req.body, u.adapter.listBody!, listLimits);
      } catch (err) {
        if (err instanceof UnreadableRequest) throw gatewayError('GW_ERR_UPSTREAM_UNREADABLE', [u.config.adapter, err.message], { field: 'body' });
        throw err;
      }
      if ('whole' in split) raw = split.whole; else list = split;
    }
    // decoded once: parsed, then scanned for keys named twice
    const text = list ? list.skeleton : raw && raw.length > 0 ? raw.toString('utf8') : null;
    const parsed = text === null ? undefined : tryJson(text);
    // a form body (Verimor's campaign PATCH) is offered to the adapter as read once, like the query
    const form = text !== null && parsed === undefined && /^application\/x-www-form-urlencoded\b/i.test(String(req.headers['content-type'] ?? '')) ? new URLSearchParams(text) : undefined;
    const formed = form ? { form } : {};
    if (u.config.gatewayAuth === 'provider'
      && !providerAuthorized(u.config, u.adapter, { method: req.method, path: path.key, headers: req.headers, body: parsed, ...formed }, new URLSearchParams(query))) {
      throw gatewayError('GW_ERR_UNAUTHORIZED');
    }

    let message: ProviderMessage | null;
    try {
      if (parsed !== undefined && hasDuplicateKeys(text!)) throw new UnreadableRequest('a JSON object names the same key twice (providers may read the other value)');
      message = u.adapter.read({ method: req.method, path: path.key, headers: req.headers, body: parsed, query: new URLSearchParams(query), ...formed }, u.config);
    } catch (err) {
      if (err instanceof RefusedRequest) throw gatewayError(err.code, err.args, { field: 'body' });
      if (err instanceof UnreadableRequest) throw gatewayError('GW_ERR_UPSTREAM_UNREADABLE', [u.config.adapter, err.message], { field: 'body' });
      throw err;
    }
    const headers = forwardRequestHeaders(req.headers);
    if (list && !message) throw gatewayError('GW_ERR_UPSTREAM_UNREADABLE', [u.config.adapter, `a list body over ${listLimits.streamAboveBytes} bytes must be a send request; refused unsent`], { field: 'body' });
    if (!message) {
      // Fail closed: only reads (GET/HEAD to a path that is not a send endpoint) and the upstream's
      // configured passThroughPaths go out unscreened; any other request the adapter cannot read is
      // refused, so no send API of the provider (form, XML, GET-with-query, PUT …) bypasses the check.
      const read = u.adapter.getReadsPass !== false && (req.method === 'GET' || req.method === 'HEAD') && path.ascii && !SEND_LIKE.test(path.key) && !sendLikeQuery(query);
      const known = path.ascii && ((u.adapter.readOnlyPaths ?? []).includes(path.key)
        || u.adapter.readOnlyRequest?.({ method: req.method, path: path.key, headers: req.headers, body: parsed, query: new URLSearchParams(query), ...formed }, u.config) === true);
      if (!read && !known && !passThrough(u.config).has(path.key)) {
        throw gatewayError('GW_ERR_UPSTREAM_UNREADABLE', [u.config.adapter, `${req.method} ${path.wire} is not a send request iys-gate can screen; refused unsent (allow read-only endpoints with passThroughPaths)`], { field: 'path' });
      }
      return relay(req, reply, u, pathAndQuery, headers, raw, null, 'passthrough', u.adapter.rewriteReadAnswer ? path.key : undefined);
    }

    const brandCode = message.brandCode ?? u.config.brandCode;
    if (principal ? !hasBrand(principal, brandCode) : brandCode !== u.config.brandCode) {
      throw gatewayError('GW_ERR_FORBIDDEN', [`brand ${brandCode}`], { field: 'brandCode' });
    }
    assertServedBrand(brandCode, served); // a brandCode in the body the gateway does not serve: 400, never a decision
    const door = { entrance: u.adapter.type === 'ARAMA' ? 'dialer' as const : 'proxy' as const, via: u.config.name, keyName: principal?.name ?? (u.config.gatewayAuth === 'none' ? '(open)' : '') };
    if (list) {
      let ls;
      try {
        ls = await screenList(deps.checks, u.adapter, message, parsed, list, brandCode, u.config.promotionalInformational ?? defaultPolicy, door, listLimits);
      } catch (err) {
        if (err instanceof UnreadableRequest) throw gatewayError('GW_ERR_UPSTREAM_UNREADABLE', [u.config.adapter, err.message], { field: 'body' });
        throw err;
      }
      const whole: ProviderMessage = { ...message, recipients: new Array<string>(ls.entries) };
      const { report, stopped } = answerScreening(reports, u, req, reply, brandCode, whole, ls.screening, principal === null);
      const log = (req.server as { decisions?: { note(seq: number, n: Record<string, unknown>): void } | null }).decisions;
      for (const seq of ls.decisionSeqs.slice(1)) log?.note(seq, { reportId: report?.id ?? null, requestId: req.id, upstream: u.config.name });
      if (stopped) return stopped;
      return relay(req, reply, u, pathAndQuery, headers, ls.body, report);
    }
    const s = await screenMessage(deps.checks, u.adapter, message, parsed, brandCode, u.config.promotionalInformational ?? defaultPolicy, door);
    const { report, stopped } = answerScreening(reports, u, req, reply, brandCode, message, s, principal === null);
    if (stopped) return stopped;
    let out: unknown = s.rewritten ? s.body : null;
    const lu = u.config.listUnsubscribe;
    if (lu !== 'keep' && u.config.adapter === 'sendgrid') {
      // one-click unsubscribe on TICARI mail, as the SMTP relay adds it (sendgrid.ts sendgridListUnsubscribe)
      const now = Date.now();
      const r = sendgridListUnsubscribe(out ?? parsed, lu, s.checkedMessageType === 'TICARI' && unsubscribe
        ? (rcpt) => listUnsubscribeFields(unsubscribe, brandCode, message.recipientType, rcpt, now) : null);
      if (r.changed) out = r.body;
    }
    const body = out !== null ? Buffer.from(JSON.stringify(out)) : raw;
    return relay(req, reply, u, pathAndQuery, headers, body, report);
  };
  // ARI clients address <host>/ari/… and take no path prefix: the upstream with ariRoot serves there too
  const ari = upstreams.list().find((x) => x.config.ariRoot);
  if (ari) {
    const ariHandler = async (req: FastifyRequest<{ Params: { upstream: string; '*'?: string } }>, reply: FastifyReply) => {
      ariRooted.add(req);
      (req.params as { upstream: string }).upstream = ari.config.name;
      return handler(req, reply);
    };
    app.all<{ Params: { upstream: string; '*'?: string } }>('/ari/*', { schema: { summary: `Asterisk REST Interface of upstream ${ari.config.name} (ariRoot): channel originates screened like /proxy/${ari.config.name}/ari/…`, tags: ['proxy'] } }, ariHandler);
  }
  /**
   * onRequest of the list routes: the gateway key (scope proxy, the upstream's brand) is checked
   * before the body is read, so a client without one makes the gateway write nothing to the spool
   * directory (review attack 2026-12-02: up to listStream.maxBodyBytes was spooled first). With
   * `gatewayAuth: provider` the users named in headers and query are checked here when there are
   * any (a body-only user is checked once the body is read, as before). Refusals are answered in
   * the shape the handler would use (errorFormat provider included).
   */
  const authorizeBeforeSpool = async (req: FastifyRequest, reply: FastifyReply, u: Upstream) => {
    try {
      if (u.config.gatewayAuth === 'none') return;
      if (u.config.gatewayAuth === 'provider') {
        const q = req.url.indexOf('?');
        const query = new URLSearchParams(q === -1 ? '' : req.url.slice(q + 1));
        const pre = { method: req.method, path: '', headers: req.headers, body: undefined };
        const named = u.adapter.providerUsers?.(pre, query) ?? [];
        if (named.length > 0 && !providerAuthorized(u.config, u.adapter, pre, query)) throw gatewayError('GW_ERR_UNAUTHORIZED');
        return;
      }
      const principal = authenticate(req, u.config);
      if (principal && !hasBrand(principal, u.config.brandCode)) throw gatewayError('GW_ERR_FORBIDDEN', [`brand ${u.config.brandCode}`], { field: 'brandCode' });
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      if ((u.config.errorFormat ?? (u.config.gatewayAuth === 'provider' ? 'provider' : 'gateway')) === 'provider' && u.adapter.refusal) {
        providerShaped.set(req, { adapter: u.adapter, path: req.url.replace(/^\/proxy\/[^/?#]*/, '').replace(/[?#].*$/, '') });
      }
      reply.header('connection', 'close'); // the rest of the body is not read for this request
      await coded(reply, err, { requestId: req.id });
      return reply;
    }
  };
  // campaign lists at their canonical paths are spooled when long (list-stream.ts); other spellings of the path are read whole
  const listLimits: ListStreamLimits = { ...deps.config.listStream, maxHeadBytes: 1024 * 1024, maxElementBytes: 64 * 1024 };
  const listed = upstreams.list().filter((x) => x.adapter.listBody);
  if (listed.length > 0) {
    await app.register(async (sub) => {
      sub.removeAllContentTypeParsers();
      sub.addContentTypeParser('*', spoolingParser(listLimits));
      for (const x of listed) {
        for (const p of x.adapter.listBody!.paths) {
          sub.post(`/proxy/${x.config.name}${p}`, { schema: { summary: `Campaign list of upstream ${x.config.name} (${p}): streamed when over ${listLimits.streamAboveBytes} bytes, screened in batches`, tags: ['proxy'], security: [{ gateKey: [] }] }, onRequest: (req, reply) => authorizeBeforeSpool(req, reply, x) }, async (req, reply) => {
            const body = req.body;
            if (body instanceof SpooledBody) reply.raw.once('close', () => body.cleanup());
            (req.params as { upstream: string }).upstream = x.config.name;
            return handler(req as FastifyRequest<{ Params: { upstream: string; '*'?: string } }>, reply);
          });
        }
      }
    });
  }
  // the ARI event WebSocket: passed through to Asterisk once authorised like the upstream's REST requests
  const ariUpstreams = upstreams.list().filter((x) => x.config.adapter === 'asterisk-ari');
  if (ariUpstreams.length > 0) {
    const events = ariEventsUpgrade(app.server, ariUpstreams, (x, raw, query) => {
      if (x.config.gatewayAuth === 'provider') {
        if (!providerAuthorized(x.config, x.adapter, { method: 'GET', path: ARI_EVENTS_PATH, headers: raw.headers, body: undefined }, query)) throw gatewayError('GW_ERR_UNAUTHORIZED');
        return;
      }
      const p = authenticate({ headers: raw.headers } as FastifyRequest, x.config);
      if (p && !hasBrand(p, x.config.brandCode)) throw gatewayError('GW_ERR_FORBIDDEN', [`brand ${x.config.brandCode}`]);
    }, app.log);
    app.addHook('preClose', (done) => { events.close(); done(); });
  }
  app.all<{ Params: { upstream: string; '*'?: string } }>('/proxy/:upstream', { schema: proxyDoc('') }, handler);
  app.all<{ Params: { upstream: string; '*'?: string } }>('/proxy/:upstream/*', { schema: proxyDoc('/*') }, handler);
}

/** OpenAPI entry of the proxy routes (every method; the body is the provider's own format). */
function proxyDoc(rest: string) {
  return {
    summary: `Provider request to upstream <upstream>${rest ? ' at its path <*>' : ''}: screened, stripped of blocked recipients, forwarded`,
    tags: ['proxy'], security: [{ gateKey: [] }],
    params: { type: 'object', properties: { upstream: { type: 'string' }, ...(rest ? { path: { type: 'string', description: 'the provider path' } } : {}) } },
  };
}

/**
 * A GET/HEAD to a path matching this may send something (Netgsm `/sms/send/get`, OTP, Verimor
 * `GET /v2/send`, iletiMerkezi `/v1/send-sms/get`): not passed through as a read.
 */
const SEND_LIKE = /send|sms$|message|otp/;

/**
 * Query parameter names (lower case, letters and digits only) that name a recipient or a message
 * text: a GET/HEAD carrying one may send (Netgsm's legacy `GET /bulkhttppost.asp?gsmno=…&message=…`
 * names no "send" in its path), so it is not passed through as a read (review: attack).
 */
const SEND_PARAMS = new Set(['gsmno', 'gsm', 'no', 'dest', 'to', 'receipents', 'receipent', 'recipients', 'recipient', 'phone', 'phones',
  'msisdn', 'number', 'numbers', 'numara', 'tel', 'mobile', 'email', 'msg', 'message', 'messages', 'mesaj', 'text', 'sms', 'body', 'content',
  // dialers: the called party (Verimor originate/bridge, Netgsm originate/linkup, ARI endpoint)
  'destination', 'customernum', 'called', 'caller', 'endpoint']);

/** True when the raw query (`?a=1&b=2` or `''`) names a parameter of SEND_PARAMS, however encoded or cased. */
export function sendLikeQuery(query: string): boolean {
  if (query.length <= 1) return false;
  for (const name of new URLSearchParams(query).keys()) {
    if (SEND_PARAMS.has(name.normalize('NFKC').toLowerCase().replace(/[^a-z0-9]/g, ''))) return true;
  }
  return false;
}

const passThroughKeys = new WeakMap<UpstreamConfig, Set<string>>();
/** The upstream's `passThroughPaths` read like request paths (their `key`s). */
function passThrough(c: UpstreamConfig): Set<string> {
  let s = passThroughKeys.get(c);
  if (!s) {
    s = new Set((c.passThroughPaths ?? []).flatMap((p) => { try { return [providerPath(p.replace(/[^\x21-\x7e]/gu, (ch) => encodeURIComponent(ch))).key]; } catch { return []; } }));
    passThroughKeys.set(c, s);
  }
  return s;
}

/**
 * The path forwarded for a raw provider path (`/a//b/./c/../d` → `/a/b/d`), or null when it
 * cannot be screened (see provider-path.ts). Kept for callers of the issue-3 helper.
 */
export function canonicalPath(p: string): string | null {
  try { return providerPath(p).wire; } catch (err) { if (err instanceof UnsafePath) return null; throw err; }
}

function tryJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return undefined; }
}

export function makeReport(store: RemovalReports, u: Upstream, req: FastifyRequest, brandCode: number, m: ProviderMessage, s: Screening, open: boolean): RemovalReport | null {
  if (s.removed.length === 0 && s.promo.action === 'none' && !s.refused) return null;
  return {
    id: store.newId(), upstream: u.config.name, brandCode, requestId: req.id, createdAt: new Date().toISOString(),
    declaredMessageType: m.messageType, checkedMessageType: s.checkedMessageType,
    promotional: s.promo.lint ? { action: s.promo.action, hits: s.promo.lint.hits } : null,
    counts: { received: m.recipients.length, forwarded: s.forwarded, removed: m.recipients.length - s.forwarded },
    removed: s.removed, outcome: 'forwarded', upstreamStatus: null, open,
  };
}

/**
 * Sends the (possibly rewritten) request upstream and relays the answer. `content-length` is the
 * byte length of what is sent (C26); hop-by-hop headers never cross (C27).
 */
export async function relay(req: FastifyRequest, reply: FastifyReply, u: Upstream, pathAndQuery: string, headers: Record<string, string | string[]>, body: Buffer | StreamBody | null, report: RemovalReport | null, kind: 'forwarded' | 'passthrough' = 'forwarded', readPath?: string) {
  if (body) headers['content-length'] = String(body.length);
  const metrics = req.server.gatewayMetrics;
  const name = u.config.name;
  const t0 = performance.now();
  let res;
  try {
    res = await u.client.request(req.method, pathAndQuery, headers, body === null || Buffer.isBuffer(body) ? body : body.stream());
    metrics?.upstreamLatency(name, `${Math.floor(res.statusCode / 100)}xx`, (performance.now() - t0) / 1000);
    metrics?.proxyRequest(name, kind === 'forwarded' && res.statusCode >= 300 && res.statusCode < 400 ? 'upstream_error' : kind);
  } catch (err) {
    metrics?.upstreamLatency(name, 'error', (performance.now() - t0) / 1000);
    metrics?.proxyRequest(name, 'upstream_error');
    const e = isGatewayError(err) ? err : u.client.mapError(err);
    const unknown = UpstreamClient.deliveryUnknown(e);
    if (report) { report.outcome = 'failed'; reportChanged(report); }
    req.log.error({ err: e, cause: (e as Error & { cause?: unknown }).cause, upstream: u.config.name }, `upstream ${u.config.name}: ${e.code}`);
    return coded(reply, e, { requestId: req.id, reportId: report?.id ?? null, outcome: unknown ? 'delivery_unknown' : 'not_sent' });
  }
  if (report) { report.upstreamStatus = res.statusCode; reportChanged(report); }
  if (kind === 'forwarded' && res.statusCode >= 300 && res.statusCode < 400) return refuseRedirect(req, reply, u, res, report);
  reply.code(res.statusCode);
  reply.headers(forwardResponseHeaders(res.headers));
  if (readPath !== undefined && res.statusCode === 200 && u.adapter.rewriteReadAnswer) {
    // an answer naming the upstream's own address (ARI api-docs basePath) is pointed back at the gateway
    const got = Buffer.from(await res.body.arrayBuffer());
    const host = typeof req.headers.host === 'string' ? req.headers.host : `127.0.0.1:${req.socket.localPort ?? ''}`;
    const out = got.length <= 4 * SMALL_BODY_BYTES ? u.adapter.rewriteReadAnswer(readPath, got, `${req.protocol}://${host}`) : null;
    if (out) reply.header('content-length', String(out.length));
    return reply.send(out ?? got);
  }
  // Small answers with a known length (every SMS provider's) are read whole: cheaper than piping.
  const len = Number(res.headers['content-length']);
  if (len <= SMALL_BODY_BYTES) {
    try {
      return reply.send(Buffer.from(await res.body.arrayBuffer()));
    } catch (err) {
      const e = u.client.mapError(err);
      req.log.error({ err: e, cause: err, upstream: u.config.name }, `upstream ${u.config.name}: ${e.code} while reading the answer`);
      reply.removeHeader('content-length');
      return coded(reply, e, { requestId: req.id, reportId: report?.id ?? null, outcome: 'delivery_unknown' });
    }
  }
  return reply.send(res.body);
}

/**
 * C38: an upstream's 3xx to a screened request is never handed back: the sender's client would
 * follow `Location` and send the original body (refused recipients included) past the gateway.
 * Answers 502 GW_ERR_UPSTREAM_REDIRECT (`outcome: "not_sent"`: the upstream answered with a
 * redirect instead of accepting the message; the gateway does not follow it either); the
 * Location is only logged, masked (log-url.ts), and the upstream's body is discarded.
 */
function refuseRedirect(req: FastifyRequest, reply: FastifyReply, u: Upstream, res: Dispatcher.ResponseData, report: RemovalReport | null) {
  res.body.dump({ limit: 64 * 1024 }).catch(() => {}); // discarded; its socket kept when small
  const loc = res.headers.location;
  const location = typeof loc === 'string' ? maskUrlForLog(loc) : Array.isArray(loc) ? maskUrlForLog(loc[0] ?? '') : null;
  if (report) { report.outcome = 'failed'; reportChanged(report); }
  const e = gatewayError('GW_ERR_UPSTREAM_REDIRECT', [u.config.name, res.statusCode]);
  req.log.error({ upstream: u.config.name, upstreamStatus: res.statusCode, location }, `upstream ${u.config.name}: ${e.code} (${res.statusCode} to ${location ?? 'no Location'}), not relayed`);
  return coded(reply, e, { requestId: req.id, reportId: report?.id ?? null, outcome: 'not_sent' });
}

/** Upstream answers up to this many bytes (with a content-length) are buffered, larger ones streamed. */
const SMALL_BODY_BYTES = 64 * 1024;

/** Answers with the error shape of API.md "Conventions" plus proxy fields. */
/**
 * What /proxy and /v1/send answer after screening: the request-id, counts and report headers (the
 * report stored), and — when policy refused the text or every recipient was removed — the coded
 * not-sent answer (the upstream is not called).
 * @returns the report, and the sent reply when nothing may go out (else null)
 */
export function answerScreening(
  reports: RemovalReports, u: Upstream, req: FastifyRequest, reply: FastifyReply, brandCode: number,
  message: ProviderMessage, s: Screening, open: boolean,
): { report: RemovalReport | null; stopped: FastifyReply | null } {
  const report = makeReport(reports, u, req, brandCode, message, s, open);
  reply.header('x-iys-gate-request-id', req.id);
  if (s.content) reply.header('x-iys-gate-content', `missing=${s.content.missing.join(',')}${s.content.blocked ? '; blocked' : ''}`);
  if (s.promo.action !== 'none') reply.header('x-iys-gate-promotional', `${s.promo.action}; hits=${s.promo.lint!.hits.filter((h) => !h.startsWith('-')).join(',')}`);
  reply.header('x-iys-gate-counts', `received=${message.recipients.length}, forwarded=${s.forwarded}, removed=${message.recipients.length - s.forwarded}`);
  if (report) { reports.put(report); reply.header('x-iys-gate-report', report.id); }
  if (s.decisionId) reply.header('x-iys-gate-decision-id', s.decisionId);
  // the decision log ties the request's records to its removal report and request id (written with the next block)
  if (s.decisionSeq !== null) (req.server as { decisions?: { note(seq: number, n: Record<string, unknown>): void } | null }).decisions?.note(s.decisionSeq, { reportId: report?.id ?? null, requestId: req.id, upstream: u.config.name });
  const metrics = req.server.gatewayMetrics;
  metrics?.proxyRecipients(u.config.name, s.refused ? 0 : s.forwarded, s.refused ? message.recipients.length : message.recipients.length - s.forwarded);
  if (!s.refused && s.forwarded > 0) return { report, stopped: null };
  metrics?.proxyRequest(u.config.name, s.refused ? 'promotional_refused' : 'all_blocked');
  const err = s.refused && s.content?.blocked && s.promo.action !== 'block'
    ? gatewayError('GW_ERR_UPSTREAM_CONTENT_MISSING', [s.content.missing.join(', ')])
    : s.refused
    ? gatewayError('GW_ERR_UPSTREAM_PROMOTIONAL_INFORMATIONAL', [s.promo.lint!.hits.filter((h) => !h.startsWith('-')).join(', ')])
    : gatewayError('GW_ERR_UPSTREAM_ALL_BLOCKED', [message.recipients.length, message.recipients.length]);
  if (report) { report.outcome = 'not-forwarded'; reportChanged(report); }
  return { report, stopped: coded(reply, err, { requestId: req.id, reportId: report?.id ?? null, outcome: 'not_sent', counts: report?.counts, removed: report?.removed ?? [] }) };
}

/** Requests that came in at the ARI root mount (`/ari/*`, upstream `ariRoot`): their whole URL is the provider path. */
const ariRooted = new WeakSet<FastifyRequest>();

/** Requests of an upstream with `errorFormat: provider`: their adapter and key path (for `coded`). */
const providerShaped = new WeakMap<FastifyRequest, { adapter: ProviderAdapter; path: string }>();

/**
 * Answers a coded error: the API.md error shape plus `extra` (proxy fields), or — for a request
 * of an upstream with `errorFormat: provider` — that answer inside the provider's own error shape
 * (adapter `refusal`).
 */
export function coded(reply: FastifyReply, err: GatewayError, extra: Record<string, unknown>) {
  const answer = { statusCode: err.statusCode, code: err.code, error: STATUS_CODES[err.statusCode] ?? 'Error', message: err.message, ...extra };
  const shape = providerShaped.get(reply.request);
  if (shape?.adapter.refusal) {
    const r = shape.adapter.refusal(answer, shape.path);
    return reply.code(r.statusCode).type(r.contentType).send(r.body);
  }
  return reply.code(err.statusCode).type('application/json').send(answer);
}

export default proxyRoutes;
