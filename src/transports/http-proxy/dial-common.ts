import type { MessageType, RecipientType } from '../../domain/types.ts';
import { headerValue, parseMessageType, parseRecipientType, UnreadableRequest, type ProviderRequest, type ReadDefaults } from './types.ts';

/**
 * Header declaring a call's İYS message type (`TICARI` | `BILGILENDIRME`): appointment reminders
 * and debt collection are informational calls, exempt from consent (Law 6563 art. 6; DOMAIN.md).
 * Stripped before forwarding (hop-by-hop.ts drops every `x-iys-*`).
 */
export const CALL_TYPE_HEADER = 'x-iys-message-type';
/** Header declaring the called party's recipient type (`BIREYSEL` | `TACIR`). */
export const CALL_RECIPIENT_HEADER = 'x-iys-recipient-type';

/**
 * The İYS classification of a call: the body's own field when the provider has one, else the
 * headers, else the upstream's defaults (TICARI / BIREYSEL unless configured: calls to ARAMA are
 * commercial unless declared otherwise).
 * @throws UnreadableRequest for a header value that is neither of the allowed words
 */
export function callClass(req: ProviderRequest, defaults: ReadDefaults, own?: { messageType?: MessageType | undefined; recipientType?: RecipientType | undefined }): { messageType: MessageType; recipientType: RecipientType } {
  const h = headerValue(req.headers, CALL_TYPE_HEADER);
  const hr = headerValue(req.headers, CALL_RECIPIENT_HEADER);
  if (h !== undefined && !parseMessageType(h)) throw new UnreadableRequest(`${CALL_TYPE_HEADER} is not TICARI or BILGILENDIRME`);
  if (hr !== undefined && !parseRecipientType(hr)) throw new UnreadableRequest(`${CALL_RECIPIENT_HEADER} is not BIREYSEL or TACIR`);
  return {
    messageType: own?.messageType ?? parseMessageType(h) ?? defaults.messageType,
    recipientType: own?.recipientType ?? parseRecipientType(hr) ?? defaults.recipientType,
  };
}

/**
 * One parameter read from the query, the JSON body or the form body, never two of them with
 * different values (a server may read either: the screen must read what the provider reads).
 * @returns the value, or undefined when neither names it
 * @throws UnreadableRequest when both name it differently, or the value is not a string/number
 */
export function param(req: ProviderRequest, name: string): string | undefined {
  const q = req.query?.getAll(name) ?? [];
  if (q.length > 1) throw new UnreadableRequest(`${name} is given ${q.length} times in the query`);
  const f = req.form?.getAll(name) ?? [];
  if (f.length > 1) throw new UnreadableRequest(`${name} is given ${f.length} times in the form body`);
  if (f.length === 1) {
    if (q.length === 1 && q[0] !== f[0]) throw new UnreadableRequest(`${name} is given in the query and the body with different values`);
    return f[0];
  }
  const b = typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) ? (req.body as Record<string, unknown>)[name] : undefined;
  if (b !== undefined && b !== null && typeof b !== 'string' && typeof b !== 'number') throw new UnreadableRequest(`${name} is not a string`);
  const bv = b === undefined || b === null ? undefined : String(b);
  if (q.length === 1 && bv !== undefined && q[0] !== bv) throw new UnreadableRequest(`${name} is given in the query and the body with different values`);
  return q[0] ?? bv;
}

/** Requires `param`. @throws UnreadableRequest naming it */
export function requiredParam(req: ProviderRequest, name: string): string {
  const v = param(req, name);
  if (v === undefined || v.trim() === '') throw new UnreadableRequest(`${name} is required`);
  return v;
}

/**
 * Default pattern of a dial endpoint naming an external number: a channel technology, an
 * optional trunk segment, the number, an optional `@context`/`@trunk` (ARI/Asterisk dial strings:
 * `PJSIP/trunk/905321234567`, `PJSIP/05321234567@trunk`, `SIP/trunk/+905321234567`,
 * `Local/905321234567@from-internal`, `DAHDI/g1/05321234567`, `IAX2/peer/…`). The number has 7–15
 * digits, optionally after `+` or `00`.
 */
export const DEFAULT_DIAL_PATTERN = String.raw`^(?:PJSIP|SIP|IAX2|DAHDI|Local|Dongle|Motif|UniMRCP)/(?:[^/@]+/)?(?<number>\+?[0-9]{7,15})(?:@[^/]*)?(?:/n)?$`;

const compiled = new Map<string, RegExp>();
function re(src: string): RegExp {
  let r = compiled.get(src);
  if (!r) { r = new RegExp(src, 'iu'); compiled.set(src, r); }
  return r;
}

/**
 * The number an Asterisk dial endpoint calls, read with the upstream's `dialPattern` (named group
 * `number`; default DEFAULT_DIAL_PATTERN), or `internal` when it matches the upstream's
 * `internalPattern` (extensions, queues: not a call to a person outside; forwarded unscreened).
 * @throws UnreadableRequest when neither matches: an endpoint whose number cannot be found is
 *   refused unsent (fail closed), never forwarded unscreened
 */
export function dialNumberOf(endpoint: string, opts: { dialPattern?: string | undefined; internalPattern?: string | undefined }): string | 'internal' {
  const e = endpoint.trim();
  if (opts.internalPattern && re(opts.internalPattern).test(e)) return 'internal';
  const m = re(opts.dialPattern ?? DEFAULT_DIAL_PATTERN).exec(e);
  const n = m?.groups?.number;
  if (!n) throw new UnreadableRequest(`endpoint ${maskEndpoint(e)} names no number the gate can screen (upstream dialPattern); refused unsent`);
  return n;
}

/** An endpoint for messages and logs: digits past the 5th masked. */
export function maskEndpoint(e: string): string {
  let seen = 0;
  return e.slice(0, 80).replace(/[0-9]/g, (d) => (++seen > 5 ? '*' : d));
}
