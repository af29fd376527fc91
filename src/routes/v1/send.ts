import type { FastifyInstance } from 'fastify';
import type { PromotionalPolicy } from '../../domain/promo-lint.ts';
import { gatewayError } from '../../errors.ts';
import { ownBrand, requireBrand } from '../../plugins/auth.ts';
import { forwardRequestHeaders } from '../../transports/http-proxy/hop-by-hop.ts';
import { removalReports, type RemovalReports } from '../../check/removal-reports.ts';
import { upstreamRegistry } from '../../transports/http-proxy/registry.ts';
import { screenMessage } from '../../transports/http-proxy/screen.ts';
import { UnreadableRequest, type ProviderMessage } from '../../transports/http-proxy/types.ts';
import { readSendBody } from '../../transports/http-proxy/webhook.ts';
import { answerScreening, relay } from '../proxy/index.ts';
import type { RouteDeps } from '../deps.ts';

/**
 * `POST /v1/send?upstream=<name>` (Bearer key, scope `proxy`): iys-gate's own send shape
 * `{ brandCode?, type, messageType?, recipientType?, recipients: string[], message }` is screened
 * like a proxied request and forwarded (recipients rewritten) as a JSON POST to a `webhook`
 * upstream — the one named by `upstream`, or the only webhook upstream. The webhook's answer is
 * relayed with the same `X-IYS-Gate-*` headers as `/proxy/*`; all blocked → 422
 * GW_ERR_UPSTREAM_ALL_BLOCKED listing `removed`; upstream failures → 502/503/504.
 */
export async function sendRoutes(app: FastifyInstance, deps: Pick<RouteDeps, 'config' | 'checks' | 'servedBrands'> & { reports?: RemovalReports }): Promise<void> {
  const registry = upstreamRegistry(deps.config);
  app.addHook('onClose', async () => { await registry.close(); });
  const reports = deps.reports ?? removalReports(deps.config);
  const defaultPolicy: PromotionalPolicy = (deps.config.policy as { promotionalInformational?: PromotionalPolicy }).promotionalInformational ?? 'treat-as-commercial';

  app.post<{ Querystring: { upstream?: string } }>('/v1/send', {
    config: { scope: 'proxy' },
    schema: {
      summary: 'Screen one message and forward the allowed recipients to a webhook upstream', tags: ['proxy'],
      querystring: { type: 'object', additionalProperties: false, properties: { upstream: { type: 'string' } } },
    },
  }, async (req, reply) => {
    const hooks = registry.list().filter((u) => u.config.adapter === 'webhook');
    const name = req.query.upstream;
    const u = name !== undefined ? hooks.find((h) => h.config.name === name) : hooks.length === 1 ? hooks[0] : undefined;
    if (!u) throw gatewayError('GW_ERR_UPSTREAM_NOT_FOUND', [name ?? `(webhook: ${hooks.length} configured, name one with ?upstream=)`]);
    ownBrand(req, u.config.brandCode);
    let message: ProviderMessage;
    try {
      message = readSendBody(req.body, u.config);
    } catch (err) {
      if (err instanceof UnreadableRequest) throw gatewayError('GW_ERR_VALIDATION', [err.message], { field: 'body' });
      throw err;
    }
    const brandCode = requireBrand(req, message.brandCode ?? u.config.brandCode, deps.servedBrands);
    const s = await screenMessage(deps.checks, u.adapter, message, req.body, brandCode, u.config.promotionalInformational ?? defaultPolicy, { entrance: 'send', via: u.config.name, keyName: req.principal?.name });
    const { report, stopped } = answerScreening(reports, u, req, reply, brandCode, message, s, false);
    if (stopped) return stopped;
    const body = Buffer.from(JSON.stringify(s.rewritten ? s.body : req.body));
    const headers = forwardRequestHeaders(req.headers);
    delete headers.authorization; // the gateway's own key never reaches the webhook
    headers['content-type'] = 'application/json';
    return relay(req, reply, u, '', headers, body, report);
  });
}

export default sendRoutes;
