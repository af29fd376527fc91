import type { MessageType, RecipientType } from '../../domain/types.ts';
import { basicUser, isObject, presentStrings, UnreadableRequest, type ProviderAdapter, type ProviderMessage } from './types.ts';

/** Netgsm REST v2 send path (../shared/providers/netgsm-sms-openapi.json, `RestSendRequest`). */
export const NETGSM_SEND_PATH = '/sms/rest/v2/send';
/** Netgsm REST v2 OTP path (`@netgsm/sms` `sendOtpSms`): `{ msgheader, msg, no, appname? }`, one recipient. */
export const NETGSM_OTP_PATH = '/sms/rest/v2/otp';

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
 * `POST /sms/rest/v2/otp` (`{ msgheader, msg, no }`) is informational by nature: screened as
 * BILGILENDIRME, its text still linted; a promotional OTP cannot be declared commercial (the
 * OTP API has no İYS field) and is refused under `treat-as-commercial`.
 * Read-only operations (report, cancel, msgheader, inbox, stats, balance) pass unscreened.
 */
export const netgsm: ProviderAdapter = {
  name: 'netgsm',
  type: 'MESAJ',
  sendPaths: [NETGSM_SEND_PATH, NETGSM_OTP_PATH],
  // the other operations of Netgsm's SMS OpenAPI and SDK: none of them sends a message
  readOnlyPaths: ['/sms/rest/v2/report', '/sms/rest/v2/cancel', '/sms/rest/v2/msgheader', '/sms/rest/v2/inbox', '/sms/rest/v2/stats', '/balance'],
  read(req, defaults): ProviderMessage | null {
    if (req.method !== 'POST') return null;
    if (req.path === NETGSM_OTP_PATH) return readOtp(req.body, defaults.recipientType);
    if (req.path !== NETGSM_SEND_PATH) return null;
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
    if (!Array.isArray(b.messages)) return { body, dropped: [] }; // OTP: one recipient, sent whole or not at all
    return { body: { ...b, messages: b.messages.filter((_m, i) => keep[i] === true) }, dropped: [] };
  },
  markCommercial(body, recipientType) {
    if (!Array.isArray((body as Record<string, unknown>).messages)) return null; // OTP: no İYS field
    return { ...(body as Record<string, unknown>), iysfilter: recipientType === 'TACIR' ? '12' : '11' };
  },
  providerUsers(req, query) {
    const b = isObject(req.body) ? req.body : {};
    return [...new Set(presentStrings(basicUser(req.headers), b.usercode, query.get('usercode')))];
  },
  /**
   * Netgsm's refusal: HTTP 406 `{ code, description }` (5xx statuses kept), codes of the SDK's
   * enums: `30` auth, `20` promotional text, `50` OTP number refused, `70` every other refusal
   * (all recipients blocked, unreadable), `100` gateway/upstream failure.
   */
  refusal(answer, path) {
    const status = answer.statusCode;
    const code = status === 401 || status === 403 ? '30'
      : status >= 500 ? '100'
        : answer.code === 'GW_ERR_UPSTREAM_PROMOTIONAL_INFORMATIONAL' ? '20'
          : answer.code === 'GW_ERR_UPSTREAM_ALL_BLOCKED' && path === NETGSM_OTP_PATH ? '50'
            : '70';
    // 406 is Netgsm's refusal status: its SDK then throws the whole body, iysGate included
    return { statusCode: status >= 500 ? status : 406, contentType: 'application/json', body: JSON.stringify({ code, description: `${answer.code}: ${answer.message}`, iysGate: answer }) };
  },
};

/** Netgsm REST v2 OTP body → one informational message. @throws UnreadableRequest */
function readOtp(b: unknown, recipientType: RecipientType): ProviderMessage {
  if (!isObject(b) || (typeof b.no !== 'string' && typeof b.no !== 'number')) throw new UnreadableRequest('no is required');
  if (typeof b.msg !== 'string') throw new UnreadableRequest('msg is required');
  return { type: 'MESAJ', recipients: [String(b.no)], texts: [b.msg], messageType: 'BILGILENDIRME', recipientType, brandCode: null };
}
