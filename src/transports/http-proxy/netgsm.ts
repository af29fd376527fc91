import type { MessageType, RecipientType } from '../../domain/types.ts';
import { isObject, UnreadableRequest, type ProviderAdapter, type ProviderMessage } from './types.ts';

/** Netgsm REST v2 send path (../shared/providers/netgsm-sms-openapi.json, `RestSendRequest`). */
export const NETGSM_SEND_PATH = '/sms/rest/v2/send';

/**
 * `iysfilter` → İYS classification (Netgsm REST v2): `0` informational, `11` commercial to
 * individuals, `12` commercial to merchants. Absent: the upstream's defaults.
 */
const IYSFILTER: Record<string, { messageType: MessageType; recipientType?: RecipientType }> = {
  '0': { messageType: 'BILGILENDIRME' },
  '11': { messageType: 'TICARI', recipientType: 'BIREYSEL' },
  '12': { messageType: 'TICARI', recipientType: 'TACIR' },
};

/**
 * Netgsm REST v2 JSON SMS: `POST /sms/rest/v2/send` with `{ msgheader, iysfilter?, messages:
 * [{ msg, no }] }` (basic auth, passed through). One `messages[]` item per recipient; items whose
 * `no` is blocked are dropped. Success `{ code: "00", jobid, description }`; errors 406
 * `{ code, description }` (OpenAPI `RestResponse`, `ErrorResponse`).
 */
export const netgsm: ProviderAdapter = {
  name: 'netgsm',
  type: 'MESAJ',
  // the other operations of Netgsm's SMS OpenAPI: none of them sends a message
  sendPaths: [NETGSM_SEND_PATH],
  readOnlyPaths: ['/sms/rest/v2/report', '/sms/rest/v2/cancel', '/sms/rest/v2/msgheader', '/sms/rest/v2/inbox'],
  read(req, defaults): ProviderMessage | null {
    if (req.method !== 'POST' || req.path.replace(/\/+$/, '') !== NETGSM_SEND_PATH) return null;
    const b = req.body;
    if (!isObject(b) || !Array.isArray(b.messages)) throw new UnreadableRequest('messages[] is required');
    const recipients: string[] = [];
    const texts = new Set<string>();
    b.messages.forEach((m, i) => {
      if (!isObject(m) || (typeof m.no !== 'string' && typeof m.no !== 'number')) throw new UnreadableRequest(`messages.${i}.no is required`);
      recipients.push(String(m.no));
      if (typeof m.msg === 'string') texts.add(m.msg);
    });
    let messageType = defaults.messageType;
    let recipientType = defaults.recipientType;
    if (b.iysfilter !== undefined && b.iysfilter !== null && b.iysfilter !== '') {
      const f = IYSFILTER[String(b.iysfilter)];
      if (!f) throw new UnreadableRequest(`iysfilter ${JSON.stringify(b.iysfilter)} is not 0, 11 or 12`);
      messageType = f.messageType;
      recipientType = f.recipientType ?? recipientType;
    }
    return { type: 'MESAJ', recipients, texts: [...texts], messageType, recipientType, brandCode: null };
  },
  rewrite(body, keep) {
    const b = body as Record<string, unknown> & { messages: unknown[] };
    return { body: { ...b, messages: b.messages.filter((_m, i) => keep[i] === true) }, dropped: [] };
  },
  markCommercial(body, recipientType) {
    return { ...(body as Record<string, unknown>), iysfilter: recipientType === 'TACIR' ? '12' : '11' };
  },
};
