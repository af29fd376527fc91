import { callClass, dialNumberOf, param } from './dial-common.ts';
import { basicUser, isObject, presentStrings, UnreadableRequest, type ProviderAdapter, type ProviderMessage } from './types.ts';

/** ARI paths that create a channel, i.e. dial (Asterisk REST Interface, channels resource). */
const ORIGINATE = /^\/ari\/channels(?:\/create|\/[^/]+)?$/;
/** ARI channel operations under /ari/channels/{id}/… that do not dial (answer, hangup, play…): not sends. */
const NOT_DIAL = /^\/ari\/channels\/[^/]+\/.+$/;

/**
 * Asterisk REST Interface: `POST /ari/channels` (originate), `POST /ari/channels/{channelId}`
 * (originate with id) and `POST /ari/channels/create` — the dialed number is found in `endpoint`
 * (query or JSON body, never both differently) with the upstream's `dialPattern` (default
 * dial-common.ts DEFAULT_DIAL_PATTERN: `PJSIP/trunk/905321234567`, `SIP/…`, `Local/…@ctx`); an
 * endpoint matching `internalPattern` (extensions) is forwarded unscreened; any other endpoint is
 * refused unsent. Other `/ari/channels/{id}/…` operations act on existing channels (no new call)
 * and pass, as do reads. `GET /ari/api-docs/*` answers have their `basePath` pointed back at the
 * gateway, so an ARI client (ari-client) configured with the gateway never talks to Asterisk
 * directly. ARI's own auth (Basic or `api_key=user:password`) passes through.
 * Errors: `{ "message": … }` (ARI's error body).
 */
export const asteriskAri: ProviderAdapter = {
  name: 'asterisk-ari',
  type: 'ARAMA',
  sendPaths: ['/ari/channels', '/ari/channels/create'],
  read(req, defaults): ProviderMessage | null {
    if (req.method !== 'POST') return null;
    const path = req.path.replace(/\/+$/, '');
    if (!ORIGINATE.test(path) || (NOT_DIAL.test(path) && path !== '/ari/channels/create')) return null;
    const endpoint = param(req, 'endpoint');
    if (endpoint === undefined) throw new UnreadableRequest('endpoint is required');
    const n = dialNumberOf(endpoint, defaults);
    if (n === 'internal') return null;
    const { messageType, recipientType } = callClass(req, defaults);
    return { type: 'ARAMA', recipients: [n], texts: [], messageType, recipientType, brandCode: null };
  },
  readOnlyRequest(req, defaults) {
    if (req.method !== 'POST') return false;
    const path = req.path.replace(/\/+$/, '');
    if (NOT_DIAL.test(path) && path !== '/ari/channels/create') return true;
    if (!ORIGINATE.test(path)) return false;
    // a call to an internal endpoint (an extension): passes like a read
    try {
      const endpoint = param(req, 'endpoint');
      return endpoint !== undefined && dialNumberOf(endpoint, defaults) === 'internal';
    } catch { return false; }
  },
  rewrite(body) {
    return { body, dropped: [] }; // one endpoint: forwarded whole or refused
  },
  providerUsers(req, query) {
    const apiKey = query.get('api_key');
    return [...new Set(presentStrings(basicUser(req.headers), apiKey ? apiKey.split(':')[0] : undefined))];
  },
  refusal(answer) {
    const s = answer.statusCode;
    return { statusCode: s === 401 || s === 403 ? 401 : s >= 500 ? s : 400, contentType: 'application/json', body: JSON.stringify({ message: `${answer.code}: ${answer.message}`, iysGate: answer }) };
  },
  rewriteReadAnswer(path, body, base) {
    if (!/^\/ari\/api-docs\/[^/]+\.json$/.test(path)) return null;
    let doc: unknown;
    try { doc = JSON.parse(body.toString('utf8')); } catch { return null; }
    if (!isObject(doc) || typeof doc.basePath !== 'string') return null;
    return Buffer.from(JSON.stringify({ ...doc, basePath: `${base}/ari` }));
  },
};
