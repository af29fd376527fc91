import { callClass, param, requiredParam } from './dial-common.ts';
import { isObject, parseRecipientType, presentStrings, RefusedRequest, UnreadableRequest, type ProviderAdapter, type ProviderMessage, type ProviderRequest } from './types.ts';

/**
 * Verimor Bulutsantralim (cloud PBX) paths that place calls (github.com/verimor/Bulutsantralim-API:
 * begin_call.md, bridge.md, ivr_campaigns.md). The first is the campaign path (JSON body).
 */
export const VERIMOR_SWITCH_PATHS = ['/ivr_campaigns.json', '/ivr_campaigns', '/originate', '/bridge'] as const;
/** A stored campaign (`/ivr_campaigns/<id>`, optionally `.json`): DELETE removes it, PATCH `status=on|off` restarts or stops it. */
const CAMPAIGN_ID = /^\/ivr_campaigns\/([0-9A-Za-z_-]+?)(?:\.json)?$/;

/** `is_commercial` as Verimor accepts it (JSON boolean or "true"/"false"/"1"/"0"); undefined when absent. */
function commercialOf(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === true || v === 'true' || v === '1' || v === 1) return true;
  if (v === false || v === 'false' || v === '0' || v === 0) return false;
  throw new UnreadableRequest(`is_commercial ${JSON.stringify(v)} is not a boolean`);
}

/** The TTS texts a campaign speaks (`digit_target_*: "tts/<lang>/<text>"`) and the per-number `phrase`s. */
function spokenTexts(b: Record<string, unknown>, list: Record<string, unknown>[]): string[] {
  const texts = new Set<string>();
  for (const [k, v] of Object.entries(b)) {
    if ((k.startsWith('digit_target') || k.endsWith('_target')) && typeof v === 'string' && v.startsWith('tts/')) texts.add(v.split('/').slice(2).join('/'));
  }
  for (const p of list) if (typeof p.phrase === 'string') texts.add(p.phrase);
  return [...texts];
}

function phoneList(b: Record<string, unknown>): Record<string, unknown>[] {
  if (!Array.isArray(b.phone_list)) throw new UnreadableRequest('phone_list[] is required');
  return b.phone_list.map((p, i) => {
    if (!isObject(p) || (typeof p.phone !== 'string' && typeof p.phone !== 'number')) throw new UnreadableRequest(`phone_list.${i}.phone is required`);
    return p;
  });
}

function readCampaign(req: ProviderRequest, defaults: Parameters<ProviderAdapter['read']>[1]): ProviderMessage {
  const b = req.body;
  if (!isObject(b)) throw new UnreadableRequest('a JSON campaign body is required');
  const list = phoneList(b);
  const c = commercialOf(b.is_commercial);
  if (b.iys_recipient_type !== undefined && !parseRecipientType(b.iys_recipient_type)) throw new UnreadableRequest('iys_recipient_type is not BIREYSEL or TACIR');
  const { messageType, recipientType } = callClass(req, defaults, {
    messageType: c === true ? 'TICARI' : c === false ? 'BILGILENDIRME' : undefined,
    recipientType: parseRecipientType(b.iys_recipient_type),
  });
  let brandCode: number | null = null;
  if (b.iys_brand_code !== undefined && b.iys_brand_code !== null && b.iys_brand_code !== '') {
    brandCode = Number(b.iys_brand_code);
    if (!Number.isInteger(brandCode) || brandCode <= 0) throw new UnreadableRequest('iys_brand_code is not a brand code');
  }
  return { type: 'ARAMA', recipients: list.map((p) => String(p.phone)), texts: spokenTexts(b, list), messageType, recipientType, brandCode };
}

/**
 * Verimor Bulutsantralim: `GET|POST /originate?key&extension&destination` (one call from an
 * extension to `destination`), `GET /bridge?key&source&destination` (two outside numbers joined:
 * one call, placed whole or not at all — both are screened), and `POST /ivr_campaigns.json`
 * (automatic call, IVR and voice-message campaigns: `phone_list[].phone`, `is_commercial`,
 * `iys_recipient_type`, `iys_brand_code`; TTS targets and phrases are linted). Refused numbers are
 * cut from `phone_list`; a campaign left with none is not created. `DELETE /ivr_campaigns/{id}`
 * and `PATCH /ivr_campaigns/{id}` `status=off` pass (they stop calls); `status=on` restarts a
 * stored list the gate cannot re-screen and is refused (GW_ERR_CAMPAIGN_RESTART_UNSCREENED). Calls are ARAMA, TICARI unless
 * `is_commercial: false` or header `X-IYS-Message-Type: BILGILENDIRME` declares them informational.
 * Answers: 200 `text/plain` call uuid / campaign id; errors 400 `text/plain` message.
 */
export const verimorSwitch: ProviderAdapter = {
  name: 'verimor-switch',
  type: 'ARAMA',
  sendPaths: [...VERIMOR_SWITCH_PATHS],
  read(req, defaults): ProviderMessage | null {
    const path = req.path.replace(/\/+$/, '');
    if (path === '/ivr_campaigns.json' || path === '/ivr_campaigns') return req.method === 'POST' ? readCampaign(req, defaults) : null;
    const stored = CAMPAIGN_ID.exec(path);
    if (stored && req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'DELETE') {
      // PATCH status=on|off (ivr_campaigns.md "OTOMATİK ARAMA KAMPANYASI DURDURMA"): a restart
      // calls the list Verimor stored at creation, which the API cannot give back to re-screen
      if (isObject(req.body) && req.body.phone_list !== undefined) throw new UnreadableRequest(`${req.method} ${path} carries a phone_list iys-gate does not screen there; refused unsent`);
      const status = param(req, 'status')?.trim().toLowerCase();
      if (status === 'off') return null;
      if (status === 'on') throw new RefusedRequest('GW_ERR_CAMPAIGN_RESTART_UNSCREENED', [`Verimor ivr_campaigns/${stored[1]} status=on`]);
      throw new UnreadableRequest(`${req.method} ${path}: status ${JSON.stringify(status ?? null)} is not on or off`);
    }
    if (path === '/originate' && (req.method === 'GET' || req.method === 'POST')) {
      const { messageType, recipientType } = callClass(req, defaults);
      return { type: 'ARAMA', recipients: [requiredParam(req, 'destination')], texts: [], messageType, recipientType, brandCode: null };
    }
    if (path === '/bridge' && (req.method === 'GET' || req.method === 'POST')) {
      const { messageType, recipientType } = callClass(req, defaults);
      const parties = [requiredParam(req, 'source'), requiredParam(req, 'destination')];
      return { type: 'ARAMA', recipients: parties, texts: [], messageType, recipientType, brandCode: null, indivisible: true };
    }
    return null;
  },
  listBody: {
    paths: ['/ivr_campaigns.json', '/ivr_campaigns'],
    path: ['phone_list'],
    entries(p, i) {
      if (!isObject(p) || (typeof p.phone !== 'string' && typeof p.phone !== 'number')) throw new UnreadableRequest(`phone_list.${i}.phone is required`);
      return { whole: true, entries: [{ recipient: String(p.phone), text: typeof p.phrase === 'string' ? p.phrase : undefined, value: p }] };
    },
  },
  readOnlyRequest(req) {
    // deleting a campaign or stopping it (status=off) calls no one
    const stored = CAMPAIGN_ID.exec(req.path.replace(/\/+$/, ''));
    if (!stored) return false;
    if (req.method === 'DELETE') return true;
    try { return param(req, 'status')?.trim().toLowerCase() === 'off'; } catch { return false; }
  },
  rewrite(body, keep) {
    const b = body as Record<string, unknown> & { phone_list: unknown[] };
    return { body: { ...b, phone_list: b.phone_list.filter((_p, i) => keep[i] === true) }, dropped: [] };
  },
  markCommercial(body, recipientType) {
    if (!isObject(body) || !Array.isArray(body.phone_list)) return null; // originate/bridge: no İYS field
    return { ...body, is_commercial: true, iys_recipient_type: recipientType };
  },
  providerUsers(req, query) {
    return [...new Set(presentStrings(param({ ...req, query }, 'key')))];
  },
  /** Verimor's shape: `text/plain` message, 401 for auth, 400 for other refusals, 5xx kept. */
  refusal(answer) {
    const s = answer.statusCode;
    return { statusCode: s === 401 || s === 403 ? 401 : s >= 500 ? s : 400, contentType: 'text/plain; charset=utf-8', body: `${answer.code}: ${answer.message} (requestId ${String(answer.requestId ?? '')})` };
  },
};
