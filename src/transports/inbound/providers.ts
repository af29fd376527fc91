/**
 * The mobile-originated (MO) shapes of each provider, read into transport-neutral InboundReply
 * values (handle-reply.ts). What each provider offers, as read (search tool, 2026-12):
 *
 * - **Verimor** (github.com/verimor/SMS-API `user_guide.md`, "GELEN SMS ALIMI"): PUSH — a URL set
 *   in OİM (sms_settings) receives `POST` JSON arrays `[{message_id, type: "inbound", received_at:
 *   "2017-01-01 09:00:00", network, source_addr, destination_addr, keyword, content}]`; Verimor
 *   expects `200 OK` and retries 3 times 5 minutes apart. GET — `/v2/inbound_messages?greater_than=
 *   <message_id>&username&password` returns up to 100 messages (received_at ISO with +03:00) after
 *   the given id: the poller's durable cursor is the last message_id.
 * - **Netgsm** (netgsm/netgsm-sms-js `src/netgsm.ts` getInbox and `src/types.ts` SmsInboxResponse;
 *   an n8n node registering `/sms/rest/v2/inboxwebhook`): POLL — `GET /sms/rest/v2/inbox?startdate=
 *   ddMMyyyyHHmm&stopdate=…` with Basic auth answers `{code, description, messages: [{message,
 *   sender, receiver, datetime}]}` (code 40 = no messages; without dates each message is listed once
 *   only, so the poller always gives a date window and de-duplicates itself); PUSH — a webhook URL
 *   registered through `POST /sms/rest/v2/inboxwebhook {webhookUrl}` (and removed with `DELETE`
 *   on the same path): netgsm/n8n-nodes-netgsm `nodes/Netgsm/NetgsmTrigger.node.ts`, Netgsm's own
 *   n8n trigger, "Incoming SMS", which hands the POSTed body on unread. ASSUMPTION, labelled: no
 *   source searched (netgsm's repos: API, netgsm-sms-js, n8n-nodes-netgsm; the docs and pages
 *   corpora, 2026-12-02) shows the webhook's body, so the receiver takes the inbox item's
 *   documented fields (one object, an array, or `{messages: […]}`), plus an `id`/`msgid` when
 *   present. Netgsm items carry no message id in the inbox answer: the de-duplication key is a
 *   hash of sender, receiver, datetime and text.
 * - **iletiMerkezi** (https://www.iletimerkezi.com/en/docs/api/inbox, last_updated 2026-04-29, and
 *   /en/docs/api/webhooks): POLL only — `POST https://api.iletimerkezi.com/v1/get-inbox/json
 *   {request: {authentication: {key, hash}}}`, no other request field (so no cursor: every poll is
 *   de-duplicated), no side effects, 401 when API access is off in the panel; it lists received
 *   messages ("date, sender, content, and your account number"), typically short-code replies
 *   such as RET, which iletiMerkezi's panel also adds to the account's own blacklist — iys-gate
 *   still records them (the İYS duty is the sender's). Its one webhook URL carries delivery reports
 *   only (`{report: {id, packet_id, status, to, body}}`). ASSUMPTION, labelled: the answer's field
 *   names are not in what the search returned (the page excerpt stops at `{"response": {`; the
 *   iletimerkezi/iletimerkezi-go SDK has no inbox service), so the reader takes `response.inbox.message[]` /
 *   `response.messages[]` / `response.inbox[]` items with `id?`, `sender|from|number`, `receiver|to|
 *   gsm`, `text|message|content|body`, `date|datetime|received_at`; an unreadable answer is an error
 *   of the poll (logged, retried), never a silent success. Key: id, else a hash as for Netgsm.
 */
import { createHash } from 'node:crypto';
import type { InboundReply } from './handle-reply.ts';

/** A delivery that is not of the provider's shape: a short English reason (no message content). */
export class UnreadableDelivery extends Error {}

const hashKey = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 22);

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);

/**
 * A provider time as an instant: ISO 8601 (with offset, else taken as Istanbul time), `YYYY-MM-DD
 * HH:mm[:ss]`, `DD.MM.YYYY HH:mm[:ss]`, `DDMMYYYYHHmm[ss]` — the last three in Istanbul time
 * (UTC+3 since 2016). Undefined when unreadable (the handler then uses now).
 */
export function parseProviderTime(s: string | undefined): Date | undefined {
  if (!s) return undefined;
  const t = s.trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
  if (m) {
    if (m[8]) { const d = new Date(t.replace(' ', 'T')); return Number.isNaN(d.getTime()) ? undefined : d; }
    return istanbul(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0));
  }
  m = /^(\d{2})\.(\d{2})\.(\d{4})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(t);
  if (m) return istanbul(+m[3]!, +m[2]!, +m[1]!, +m[4]!, +m[5]!, +(m[6] ?? 0));
  m = /^(\d{2})(\d{2})(\d{4})(\d{2})(\d{2})(\d{2})?$/.exec(t);
  if (m) return istanbul(+m[3]!, +m[2]!, +m[1]!, +m[4]!, +m[5]!, +(m[6] ?? 0));
  return undefined;
}

function istanbul(y: number, mo: number, d: number, h: number, mi: number, s: number): Date | undefined {
  const ms = Date.UTC(y, mo - 1, d, h - 3, mi, s);
  const back = new Date(ms + 3 * 3_600_000);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return new Date(ms);
}

function need(v: string | undefined, what: string, i: number): string {
  if (v === undefined || v.trim() === '') throw new UnreadableDelivery(`item ${i}: ${what} missing`);
  return v;
}

const asList = (body: unknown): unknown[] => (Array.isArray(body) ? body : [body]);
const obj = (v: unknown, i: number): Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UnreadableDelivery(`item ${i} is not an object`);
  return v as Record<string, unknown>;
};

/** Verimor push body (or `/v2/inbound_messages` answer) → replies; outbound items (delivery reports) are skipped. */
export function readVerimor(body: unknown, via: string): InboundReply[] {
  const out: InboundReply[] = [];
  asList(body).forEach((raw, i) => {
    const o = obj(raw, i);
    if (o.type !== undefined && o.type !== 'inbound') return;
    out.push({
      messageId: need(str(o.message_id), 'message_id', i), from: need(str(o.source_addr), 'source_addr', i),
      to: need(str(o.destination_addr), 'destination_addr', i), text: str(o.content) ?? '', receivedAt: parseProviderTime(str(o.received_at)), via,
    });
  });
  return out;
}

/** Netgsm inbox answer (`{code, messages}`) or webhook body (an item, an array of items, `{messages}`) → replies. */
export function readNetgsm(body: unknown, via: string): InboundReply[] {
  let list: unknown[];
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'code' in body && !('sender' in body)) {
    const b = body as { code?: unknown; messages?: unknown };
    if (String(b.code) === '40') return []; // no messages
    if (String(b.code) !== '00' && String(b.code) !== '0') throw new UnreadableDelivery(`netgsm answered code ${String(b.code).slice(0, 8)}`);
    list = Array.isArray(b.messages) ? b.messages : [];
  } else if (typeof body === 'object' && body !== null && !Array.isArray(body) && Array.isArray((body as { messages?: unknown }).messages)) {
    list = (body as { messages: unknown[] }).messages;
  } else list = asList(body);
  return list.map((raw, i) => {
    const o = obj(raw, i);
    const from = need(str(o.sender) ?? str(o.gsmno), 'sender', i);
    const to = need(str(o.receiver) ?? str(o.msgheader), 'receiver', i);
    const text = str(o.message) ?? str(o.msg) ?? '';
    const at = str(o.datetime) ?? str(o.date);
    return { messageId: str(o.id) ?? str(o.msgid) ?? hashKey(from, to, at ?? '', text), from, to, text, receivedAt: parseProviderTime(at), via };
  });
}

/** iletiMerkezi get-inbox answer → replies (field names read tolerantly, see the file comment). */
export function readIletimerkezi(body: unknown, via: string): InboundReply[] {
  const r = (body as { response?: Record<string, unknown> } | null)?.response;
  if (!r || typeof r !== 'object') throw new UnreadableDelivery('no response object');
  const status = (r.status as { code?: unknown } | undefined)?.code;
  if (status !== undefined && String(status) !== '200') throw new UnreadableDelivery(`iletimerkezi answered status ${String(status).slice(0, 8)}`);
  const inbox = r.inbox as Record<string, unknown> | unknown[] | undefined;
  const list: unknown = Array.isArray(inbox) ? inbox : (inbox && typeof inbox === 'object' ? (inbox.message ?? inbox.messages) : undefined) ?? r.messages ?? [];
  return asList(list).filter((x) => x !== undefined).map((raw, i) => {
    const o = obj(raw, i);
    const from = need(str(o.sender) ?? str(o.from) ?? str(o.number), 'sender', i);
    const to = need(str(o.receiver) ?? str(o.to) ?? str(o.gsm) ?? str(o.account), 'receiver', i);
    const text = str(o.text) ?? str(o.message) ?? str(o.content) ?? str(o.body) ?? '';
    const at = str(o.date) ?? str(o.datetime) ?? str(o.received_at);
    return { messageId: str(o.id) ?? hashKey(from, to, at ?? '', text), from, to, text, receivedAt: parseProviderTime(at), via };
  });
}

/** Generic JSON (`POST /v1/inbound`, or a `webhook` upstream): `{from, to, text, receivedAt?, messageId}` or an array of them. */
export function readGeneric(body: unknown, via: string): InboundReply[] {
  return asList(body).map((raw, i) => {
    const o = obj(raw, i);
    const receivedAt = str(o.receivedAt);
    const at = receivedAt === undefined ? undefined : parseProviderTime(receivedAt);
    if (receivedAt !== undefined && at === undefined) throw new UnreadableDelivery(`item ${i}: receivedAt is not an ISO 8601 date-time`);
    if (o.text !== undefined && typeof o.text !== 'string') throw new UnreadableDelivery(`item ${i}: text is not a string`);
    return {
      messageId: need(str(o.messageId), 'messageId', i), from: need(str(o.from), 'from', i), to: need(str(o.to), 'to', i),
      text: (o.text as string | undefined) ?? '', receivedAt: at, via,
    };
  });
}

/** The push/inbox reader of an adapter name (transports/http-proxy/types.ts ADAPTER_NAMES). */
export const READERS: Record<string, (body: unknown, via: string) => InboundReply[]> = {
  verimor: readVerimor, netgsm: readNetgsm, iletimerkezi: readIletimerkezi, webhook: readGeneric,
};
