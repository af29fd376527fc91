import type { MessageType, RecipientType } from '../../domain/types.ts';
import { callClass, param, requiredParam } from './dial-common.ts';
import { isObject, presentStrings, RefusedRequest, UnreadableRequest, type ProviderAdapter, type ProviderMessage, type ProviderRequest } from './types.ts';

/** Netgsm auto-dial API path (github.com/netgsm/netsantral `src/Package.php`: `https://api.netgsm.com.tr/autocallservice`). */
export const NETGSM_AUTOCALL_PATH = '/autocallservice';
/** Events of the auto-dial API that add numbers to be called; the others list, report, stop or delete. */
const DIALING_EVENTS = new Set(['addautocall', 'addnumber']);
/** Events that only read or remove: forwarded unscreened. `updatenumber` is not here: it may re-activate a number (screened as a send without numbers → refused). */
const READ_EVENTS = new Set(['listautocall', 'reportautocall', 'deletenumber']);
/**
 * `updateliststatus` stops (`data.status` "2") or re-starts ("1") a list (netsantral README
 * "Otomatik Arama Listesini Durdur/Başlat"). A restart calls the numbers Netgsm stored when the
 * list was made, screened then; the API has no way to read them back, so the gate cannot
 * re-screen them and refuses the restart (GW_ERR_CAMPAIGN_RESTART_UNSCREENED). A stop passes.
 */
const LIST_STATUS_EVENT = 'updateliststatus';
function listStatusOf(body: Record<string, unknown>): string | undefined {
  const d = body.data;
  return isObject(d) && (typeof d.status === 'string' || typeof d.status === 'number') ? String(d.status).trim() : undefined;
}

/** `filter` → İYS classification (Netgsm: "11" commercial to individuals, "12" to merchants; "0" informational). */
const FILTER: Record<string, { messageType: MessageType; recipientType?: RecipientType }> = {
  '0': { messageType: 'BILGILENDIRME' },
  '11': { messageType: 'TICARI', recipientType: 'BIREYSEL' },
  '12': { messageType: 'TICARI', recipientType: 'TACIR' },
};

/** `/<pbx number>/<operation>` of Netgsm's call API host (`crmsntrl.netgsm.com.tr:9111`). */
function operationOf(path: string): string | null {
  const m = /^\/[^/]+\/([a-z_]+)$/.exec(path);
  return m ? m[1]! : null;
}

function numbersOf(data: Record<string, unknown>): Record<string, unknown>[] {
  const n = data.numbers;
  if (n === undefined) return [];
  const list = Array.isArray(n) ? n.flat() : [n]; // the PHP client wraps one {number,name} in a list; accept both
  return list.map((x, i) => {
    if (!isObject(x) || (typeof x.number !== 'string' && typeof x.number !== 'number')) throw new UnreadableRequest(`data.numbers.${i}.number is required`);
    return x;
  });
}

function readAutocall(req: ProviderRequest, defaults: Parameters<ProviderAdapter['read']>[1]): ProviderMessage | null {
  const b = req.body;
  if (!isObject(b) || !isObject(b.body) || typeof b.body.event !== 'string') throw new UnreadableRequest('body.event is required');
  const event = b.body.event.toLowerCase();
  if (event === LIST_STATUS_EVENT) {
    const status = listStatusOf(b.body);
    if (status === '2') return null; // a stop
    if (status === '1') throw new RefusedRequest('GW_ERR_CAMPAIGN_RESTART_UNSCREENED', [`Netgsm updateliststatus status 1, list ${JSON.stringify(String(b.body.list_id ?? ''))}`]);
    throw new UnreadableRequest(`updateliststatus data.status ${JSON.stringify(b.body.data && isObject(b.body.data) ? b.body.data.status : undefined)} is not 1 (start) or 2 (stop)`);
  }
  if (!DIALING_EVENTS.has(event)) {
    if (READ_EVENTS.has(event)) return null;
    throw new UnreadableRequest(`event ${JSON.stringify(b.body.event)} is not one iys-gate can screen; refused unsent`);
  }
  const data = b.body.data;
  if (!isObject(data)) throw new UnreadableRequest('body.data is required');
  let own: { messageType?: MessageType; recipientType?: RecipientType } = {};
  if (data.filter !== undefined && data.filter !== null && data.filter !== '') {
    const f = FILTER[String(data.filter)];
    if (!f) throw new UnreadableRequest(`filter ${JSON.stringify(data.filter)} is not 0, 11 or 12`);
    own = { messageType: f.messageType, ...(f.recipientType ? { recipientType: f.recipientType } : {}) };
  }
  const { messageType, recipientType } = callClass(req, defaults, own);
  // numbers held in Netgsm's phonebook groups cannot be seen, so not screened: refused for commercial calls
  if (Array.isArray(data.groups) && data.groups.length > 0 && messageType === 'TICARI') {
    throw new UnreadableRequest('groups names Netgsm phonebook groups whose numbers iys-gate cannot screen; send the numbers in data.numbers');
  }
  const list = numbersOf(data);
  if (list.length === 0 && messageType === 'TICARI') throw new UnreadableRequest('data.numbers[] is required');
  return { type: 'ARAMA', recipients: list.map((x) => String(x.number)), texts: [], messageType, recipientType, brandCode: null };
}

/**
 * Netgsm Netsantral call APIs (github.com/netgsm/netsantral): `GET /<pbx>/originate?customer_num=…`
 * (a call from an extension to `customer_num`; `called_text` is spoken to the callee and linted),
 * `GET /<pbx>/linkup?caller=…&called=…` (two outside numbers joined: placed whole or not at all),
 * and the auto-dial service `POST /autocallservice` `{ header, body: { event, list_id?, data } }`:
 * `addautocall` (create a list with `data.numbers[].number`) and `addnumber` (add to a list) are
 * screened and refused numbers cut out; list/report/delete events and a list stop
 * (`updateliststatus` status 2) pass unscreened; a list restart (status 1) is refused
 * (GW_ERR_CAMPAIGN_RESTART_UNSCREENED: its stored numbers cannot be re-screened). `filter`
 * "11"/"12" declares commercial calls (BIREYSEL/TACIR), else header or upstream default.
 * Answers are JSON `{ status, message, … }`.
 */
export const netgsmSantral: ProviderAdapter = {
  name: 'netgsm-santral',
  type: 'ARAMA',
  sendPaths: [NETGSM_AUTOCALL_PATH, '/8500000000/originate', '/8500000000/linkup'],
  read(req, defaults): ProviderMessage | null {
    const path = req.path.replace(/\/+$/, '');
    if (path === NETGSM_AUTOCALL_PATH) return req.method === 'POST' ? readAutocall(req, defaults) : null;
    const op = operationOf(path);
    if (op === 'originate') {
      const { messageType, recipientType } = callClass(req, defaults);
      const spoken = param(req, 'called_text');
      return { type: 'ARAMA', recipients: [requiredParam(req, 'customer_num')], texts: spoken ? [spoken] : [], messageType, recipientType, brandCode: null };
    }
    if (op === 'linkup') {
      const { messageType, recipientType } = callClass(req, defaults);
      const texts = [param(req, 'caller_text'), param(req, 'called_text')].filter((x): x is string => !!x);
      return { type: 'ARAMA', recipients: [requiredParam(req, 'caller'), requiredParam(req, 'called')], texts, messageType, recipientType, brandCode: null, indivisible: true };
    }
    return null;
  },
  listBody: {
    paths: [NETGSM_AUTOCALL_PATH],
    path: ['body', 'data', 'numbers'],
    entries(el, i) {
      const one = (x: unknown, at: string) => {
        if (!isObject(x) || (typeof x.number !== 'string' && typeof x.number !== 'number')) throw new UnreadableRequest(`data.numbers.${at}.number is required`);
        return { recipient: String(x.number), value: x };
      };
      // the PHP client wraps {number,name} entries in a list: flattened as numbersOf does
      if (Array.isArray(el)) return { whole: false, entries: el.map((x, j) => one(x, `${i}.${j}`)) };
      return { whole: true, entries: [one(el, String(i))] };
    },
  },
  readOnlyRequest(req) {
    const b = req.body;
    if (!(req.method === 'POST' && req.path.replace(/\/+$/, '') === NETGSM_AUTOCALL_PATH && isObject(b) && isObject(b.body) && typeof b.body.event === 'string')) return false;
    const event = b.body.event.toLowerCase();
    return READ_EVENTS.has(event) || (event === LIST_STATUS_EVENT && listStatusOf(b.body) === '2');
  },
  rewrite(body, keep) {
    const b = body as { body: { data: Record<string, unknown> } } & Record<string, unknown>;
    const list = numbersOf(b.body.data);
    return { body: { ...b, body: { ...b.body, data: { ...b.body.data, numbers: list.filter((_x, i) => keep[i] === true) } } }, dropped: [] };
  },
  markCommercial(body, recipientType) {
    if (!isObject(body) || !isObject(body.body) || !isObject(body.body.data)) return null; // originate/linkup: no İYS field
    return { ...body, body: { ...body.body, data: { ...body.body.data, filter: recipientType === 'TACIR' ? '12' : '11' } } };
  },
  providerUsers(req, query) {
    const b = isObject(req.body) && isObject(req.body.header) ? req.body.header : {};
    return [...new Set(presentStrings(b.username, query.get('username')))];
  },
  /** Netgsm's call API shape: JSON `{ status: "error", message }` with the gateway's answer inside (`iysGate`). */
  refusal(answer) {
    const s = answer.statusCode;
    return { statusCode: s === 401 || s === 403 ? 401 : s >= 500 ? s : 400, contentType: 'application/json', body: JSON.stringify({ status: 'error', message: `${answer.code}: ${answer.message}`, iysGate: answer }) };
  },
};
