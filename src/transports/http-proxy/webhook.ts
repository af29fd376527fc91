import { CONSENT_TYPES, type ConsentType } from '../../domain/types.ts';
import { readableStrings } from '../../domain/html-text.ts';
import { isObject, parseMessageType, parseRecipientType, UnreadableRequest, type ProviderAdapter, type ProviderMessage } from './types.ts';

/**
 * iys-gate's own send shape (API.md-style vocabulary), used by the generic webhook upstream and by
 * `POST /v1/send`: `{ brandCode?, type, messageType?, recipientType?, recipients: string[],
 * message }`. Every POST to a webhook upstream carries one message; `recipients` is rewritten.
 */
export interface SendBody {
  brandCode?: number;
  type: ConsentType;
  messageType?: 'TICARI' | 'BILGILENDIRME';
  recipientType?: 'BIREYSEL' | 'TACIR';
  recipients: string[];
  /** Text (SMS), subject/body (e-mail) or call script, any JSON shape; every string in it is read by the promotional lint. */
  message: unknown;
}

/**
 * Texts of a `message` field: every string in it (nested up to 5 levels), HTML read as its
 * visible text with its hidden text apart (domain/html-text.ts).
 */
export function textsOfMessage(m: unknown): string[] {
  // every string anywhere in the message is read: a shape the lint does not know must not pass
  // as informational unread (review: `{ html }` and `[…]` did)
  return readableStrings(m);
}

const TEMPLATE_KEY = /^template(?:[_-]?(?:id|name|code|key))?$/i;

/**
 * The name of a `message` key that refers to a template held elsewhere (`template`,
 * `templateId`, `template_id`, `templateName`, … with a non-empty value, up to 5 levels deep), or
 * undefined: its text is not in the request, so the lint cannot clear it (issue 10 item 3).
 */
export function templateKeyOf(m: unknown, depth = 0): string | undefined {
  if (depth > 4 || m === null || typeof m !== 'object') return undefined;
  for (const [k, v] of Object.entries(m)) {
    if (TEMPLATE_KEY.test(k) && v !== null && v !== undefined && v !== '' && v !== false) return k;
    const inner = templateKeyOf(v, depth + 1);
    if (inner) return inner;
  }
  return undefined;
}

const unseen = (k: string | undefined): { unseenText?: string } => (k ? { unseenText: `message.${k}` } : {});

/** Reads a SendBody (also used by routes/v1/send.ts). @throws UnreadableRequest */
export function readSendBody(b: unknown, defaults: { messageType: 'TICARI' | 'BILGILENDIRME'; recipientType: 'BIREYSEL' | 'TACIR' }, fixedType?: ConsentType): ProviderMessage {
  if (!isObject(b)) throw new UnreadableRequest('body must be a JSON object');
  if (!Array.isArray(b.recipients) || b.recipients.some((r) => typeof r !== 'string')) throw new UnreadableRequest('recipients must be a list of strings');
  const type = (b.type ?? fixedType) as ConsentType | undefined;
  if (!type || !(CONSENT_TYPES as readonly string[]).includes(type)) throw new UnreadableRequest('type must be MESAJ, ARAMA or EPOSTA');
  if (b.messageType !== undefined && !parseMessageType(String(b.messageType))) throw new UnreadableRequest('messageType must be TICARI or BILGILENDIRME');
  if (b.recipientType !== undefined && !parseRecipientType(b.recipientType)) throw new UnreadableRequest('recipientType must be BIREYSEL or TACIR');
  if (b.brandCode !== undefined && !(Number.isInteger(b.brandCode) && (b.brandCode as number) > 0)) throw new UnreadableRequest('brandCode must be a positive integer');
  return {
    type,
    recipients: b.recipients as string[],
    texts: textsOfMessage(b.message),
    ...unseen(templateKeyOf(b.message)),
    messageType: parseMessageType(b.messageType as string | undefined) ?? defaults.messageType,
    recipientType: parseRecipientType(b.recipientType) ?? defaults.recipientType,
    brandCode: (b.brandCode as number | undefined) ?? null,
  };
}

/**
 * Generic JSON webhook: every POST body is a SendBody and is forwarded to the configured URL with
 * only the allowed `recipients`. Any other request is refused unless its path is one of the
 * upstream's `passThroughPaths` (a receiver may send on a GET with a query). The upstream's answer
 * is relayed as it is.
 */
export const webhook: ProviderAdapter = {
  name: 'webhook',
  type: 'MESAJ',
  sendPaths: ['/', '/hooks/sms'],
  getReadsPass: false,
  read(req, defaults): ProviderMessage | null {
    if (req.method !== 'POST') return null;
    return readSendBody(req.body, defaults);
  },
  rewrite(body, keep) {
    const b = body as Record<string, unknown> & { recipients: string[] };
    return { body: { ...b, recipients: b.recipients.filter((_r, i) => keep[i] === true) }, dropped: [] };
  },
  markCommercial(body, recipientType) {
    return { ...(body as Record<string, unknown>), messageType: 'TICARI', recipientType };
  },
};
