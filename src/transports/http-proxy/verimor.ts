import { isObject, parseRecipientType, presentStrings, UnreadableRequest, type ProviderAdapter, type ProviderMessage } from './types.ts';

/** Verimor JSON send path (github.com/verimor/SMS-API user guide). */
export const VERIMOR_SEND_PATH = '/v2/send.json';

function destsOf(m: Record<string, unknown>, i: number): string[] {
  if (typeof m.dest === 'string' || typeof m.dest === 'number') return String(m.dest).split(',').map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(m.dest)) return m.dest.map(String);
  throw new UnreadableRequest(`messages.${i}.dest is required`);
}

/** `is_commercial` as Verimor accepts it: JSON boolean, or "true"/"false"/"1"/"0". */
function commercialOf(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === true || v === 'true' || v === '1' || v === 1) return true;
  if (v === false || v === 'false' || v === '0' || v === 0) return false;
  throw new UnreadableRequest(`is_commercial ${JSON.stringify(v)} is not a boolean`);
}

/**
 * Verimor SMS: `POST /v2/send.json` with `{ username, password, source_addr, is_commercial?,
 * iys_recipient_type?, messages: [{ msg, dest: "905…,905…" }] }`. `dest` holds one or more
 * comma-separated numbers; blocked ones are cut out and a message left with none is dropped.
 * Success 200 `text/plain` campaign id; errors 400 `text/plain` codes such as
 * `INVALID_DESTINATION_ADDRESS`, `INVALID_IYS_RECIPIENT_TYPE`.
 */
export const verimor: ProviderAdapter = {
  name: 'verimor',
  type: 'MESAJ',
  sendPaths: [VERIMOR_SEND_PATH],
  read(req, defaults): ProviderMessage | null {
    if (req.method !== 'POST' || req.path.replace(/\/+$/, '') !== VERIMOR_SEND_PATH) return null;
    const b = req.body;
    if (!isObject(b) || !Array.isArray(b.messages)) throw new UnreadableRequest('messages[] is required');
    const recipients: string[] = [];
    const texts = new Set<string>();
    b.messages.forEach((m, i) => {
      if (!isObject(m)) throw new UnreadableRequest(`messages.${i} is not an object`);
      recipients.push(...destsOf(m, i));
      if (typeof m.msg === 'string') texts.add(m.msg);
    });
    const c = commercialOf(b.is_commercial);
    const messageType = c === true ? 'TICARI' : c === false ? 'BILGILENDIRME' : defaults.messageType;
    if (b.iys_recipient_type !== undefined && !parseRecipientType(b.iys_recipient_type)) throw new UnreadableRequest('iys_recipient_type is not BIREYSEL or TACIR');
    const recipientType = parseRecipientType(b.iys_recipient_type) ?? defaults.recipientType;
    return { type: 'MESAJ', recipients, texts: [...texts], messageType, recipientType, brandCode: null };
  },
  rewrite(body, keep) {
    const b = body as Record<string, unknown> & { messages: Record<string, unknown>[] };
    let at = 0;
    const messages: Record<string, unknown>[] = [];
    b.messages.forEach((m, i) => {
      const d = destsOf(m, i);
      const kept = d.filter((_x, j) => keep[at + j] === true);
      at += d.length;
      if (kept.length > 0) messages.push({ ...m, dest: Array.isArray(m.dest) ? kept : kept.join(',') });
    });
    return { body: { ...b, messages }, dropped: [] };
  },
  markCommercial(body, recipientType) {
    return { ...(body as Record<string, unknown>), is_commercial: true, iys_recipient_type: recipientType };
  },
  providerUsers(req, query) {
    const b = isObject(req.body) ? req.body : {};
    return [...new Set(presentStrings(b.username, query.get('username')))];
  },
  /** Verimor's shape: `text/plain` error text, 401 auth, 400 other refusals, 5xx kept (the gateway's code first, then its message and request id). */
  refusal(answer) {
    const s = answer.statusCode;
    return { statusCode: s === 401 || s === 403 ? 401 : s >= 500 ? s : 400, contentType: 'text/plain; charset=utf-8', body: `${answer.code}: ${answer.message} (requestId ${String(answer.requestId ?? '')})` };
  },
};
