import { isObject, parseRecipientType, presentStrings, UnreadableRequest, type ProviderAdapter, type ProviderMessage } from './types.ts';

/** iletiMerkezi JSON send path (iletimerkezi.com docs, "Send SMS API (send-sms)"). */
export const ILETIMERKEZI_SEND_PATH = '/v1/send-sms/json';

/** `order.message` may be one object or a list of them (one text each). */
function messagesOf(order: Record<string, unknown>): Record<string, unknown>[] {
  const m = order.message;
  if (Array.isArray(m)) return m.map((x, i) => { if (!isObject(x)) throw new UnreadableRequest(`order.message.${i} is not an object`); return x; });
  if (isObject(m)) return [m];
  throw new UnreadableRequest('order.message is required');
}

/** `receipents.number` (sic, the provider's spelling): a list, or one string of comma-separated numbers. */
function numbersOf(msg: Record<string, unknown>, at: string): string[] {
  const r = msg.receipents;
  if (!isObject(r)) throw new UnreadableRequest(`${at}.receipents is required`);
  const n = r.number;
  if (Array.isArray(n)) return n.map((x) => String(x));
  if (typeof n === 'string' || typeof n === 'number') return String(n).split(',').map((s) => s.trim()).filter(Boolean);
  throw new UnreadableRequest(`${at}.receipents.number is required`);
}

/**
 * iletiMerkezi SMS: `POST /v1/send-sms/json` with `{ request: { authentication: { key, hash },
 * order: { sender, iys: "1"|"0", iysList: "BIREYSEL"|"TACIR", message: { text, receipents: {
 * number: [...] } } } } }`. `iys` `1` = commercial (iysList picks the list), `0` = informational.
 * Success `{ response: { status: { code: "200", message }, order: { id } } }`; errors carry
 * another `status.code` (401, 402, 452 invalid recipients, …).
 */
export const iletimerkezi: ProviderAdapter = {
  name: 'iletimerkezi',
  type: 'MESAJ',
  sendPaths: [ILETIMERKEZI_SEND_PATH],
  read(req, defaults): ProviderMessage | null {
    if (req.method !== 'POST' || req.path.replace(/\/+$/, '') !== ILETIMERKEZI_SEND_PATH) return null;
    const r = isObject(req.body) ? req.body.request : undefined;
    const order = isObject(r) ? r.order : undefined;
    if (!isObject(order)) throw new UnreadableRequest('request.order is required');
    const recipients: string[] = [];
    const texts: string[] = [];
    messagesOf(order).forEach((m, i) => {
      recipients.push(...numbersOf(m, `request.order.message${Array.isArray(order.message) ? `.${i}` : ''}`));
      if (typeof m.text === 'string') texts.push(m.text);
    });
    const iys = order.iys === undefined ? undefined : String(order.iys);
    if (iys !== undefined && iys !== '0' && iys !== '1') throw new UnreadableRequest(`iys ${JSON.stringify(order.iys)} is not "1" or "0"`);
    const messageType = iys === '1' ? 'TICARI' : iys === '0' ? 'BILGILENDIRME' : defaults.messageType;
    const recipientType = parseRecipientType(order.iysList) ?? defaults.recipientType;
    return { type: 'MESAJ', recipients, texts, messageType, recipientType, brandCode: null };
  },
  rewrite(body, keep) {
    const b = body as { request: Record<string, unknown> & { order: Record<string, unknown> } };
    const order = b.request.order;
    let at = 0;
    const rewriteOne = (m: Record<string, unknown>) => {
      const rec = m.receipents as Record<string, unknown>;
      const wasString = typeof rec.number === 'string' || typeof rec.number === 'number';
      const nums = numbersOf(m, '');
      const kept = nums.filter((_n, j) => keep[at + j] === true);
      at += nums.length;
      return kept.length === 0 ? null : { ...m, receipents: { ...rec, number: wasString ? kept.join(',') : kept } };
    };
    const message = Array.isArray(order.message)
      ? (order.message as Record<string, unknown>[]).map(rewriteOne).filter((m) => m !== null)
      : rewriteOne(order.message as Record<string, unknown>);
    return { body: { ...b, request: { ...b.request, order: { ...order, message } } }, dropped: [] };
  },
  markCommercial(body, recipientType) {
    const b = body as { request: Record<string, unknown> & { order: Record<string, unknown> } };
    return { ...b, request: { ...b.request, order: { ...b.request.order, iys: '1', iysList: recipientType } } };
  },
  providerUsers(req, query) {
    const r = isObject(req.body) && isObject(req.body.request) ? req.body.request : {};
    const a = isObject(r.authentication) ? r.authentication : {};
    return [...new Set(presentStrings(a.key, query.get('key')))];
  },
  /** iletiMerkezi's shape `{ response: { status: { code, message } } }`, HTTP status = code: 401 auth, 452 recipients, 400 other; 5xx kept. */
  refusal(answer) {
    const s = answer.statusCode;
    const code = s === 401 || s === 403 ? 401 : s >= 500 ? s : answer.code === 'GW_ERR_UPSTREAM_ALL_BLOCKED' ? 452 : 400;
    return { statusCode: code, contentType: 'application/json', body: JSON.stringify({ response: { status: { code: String(code), message: `${answer.code}: ${answer.message}` }, iysGate: answer } }) };
  },
};
