import { normalizeRecipient } from '../../domain/recipient.ts';
import type { RecipientType } from '../../domain/types.ts';
import type { UnsubscribeConfig } from './config.ts';
import { signUnsubscribeToken } from './unsubscribe-token.ts';

/**
 * The RFC 8058 / RFC 2369 header fields for one recipient of TICARI mail, as [name, value]:
 * `List-Unsubscribe: <https://…/u/TOKEN>[, <mailto:…>]` and
 * `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. TOKEN names brand, recipient (canonical),
 * recipient type and issue time (unsubscribe-token.ts). Empty when `u` is unset or the address
 * cannot be normalized.
 * @param nowMs epoch ms (the token's issue time)
 */
export function listUnsubscribeFields(u: UnsubscribeConfig | undefined, brandCode: number, recipientType: RecipientType, recipient: string, nowMs: number): Array<[string, string]> {
  if (!u) return [];
  const n = normalizeRecipient(recipient, 'EPOSTA');
  if (!n.ok) return [];
  const token = signUnsubscribeToken(u.secret, { brandCode, recipient: n.canonical, recipientType, issuedAt: Math.floor(nowMs / 1000) });
  const url = `${u.baseUrl.replace(/\/+$/, '')}/u/${token}`;
  return [
    ['List-Unsubscribe', `<${url}>${u.mailto ? `, <mailto:${u.mailto}?subject=unsubscribe>` : ''}`],
    ['List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'],
  ];
}

/** The same fields as header lines (`Name: value`, no line end) for a relayed message (smtp config `unsubscribe`). */
export function listUnsubscribeHeaders(cfg: { unsubscribe?: UnsubscribeConfig | undefined }, brandCode: number, recipientType: RecipientType, recipient: string, nowMs: number): string[] {
  return listUnsubscribeFields(cfg.unsubscribe, brandCode, recipientType, recipient, nowMs).map(([k, v]) => `${k}: ${v}`);
}
