import { normalizeRecipient } from '../../domain/recipient.ts';
import type { RecipientType } from '../../domain/types.ts';
import type { SmtpConfig } from './config.ts';
import { signUnsubscribeToken } from './unsubscribe-token.ts';

/**
 * The RFC 8058 / RFC 2369 header lines for one recipient of TICARI mail:
 * `List-Unsubscribe: <https://…/u/TOKEN>[, <mailto:…>]` and
 * `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. TOKEN names brand, recipient (canonical),
 * recipient type and issue time (unsubscribe-token.ts). Empty when `smtp.unsubscribe` is unset
 * or the address cannot be normalized.
 * @param nowMs epoch ms (the token's issue time)
 */
export function listUnsubscribeHeaders(cfg: Pick<SmtpConfig, 'unsubscribe'>, brandCode: number, recipientType: RecipientType, recipient: string, nowMs: number): string[] {
  const u = cfg.unsubscribe;
  if (!u) return [];
  const n = normalizeRecipient(recipient, 'EPOSTA');
  if (!n.ok) return [];
  const token = signUnsubscribeToken(u.secret, { brandCode, recipient: n.canonical, recipientType, issuedAt: Math.floor(nowMs / 1000) });
  const url = `${u.baseUrl.replace(/\/+$/, '')}/u/${token}`;
  return [
    `List-Unsubscribe: <${url}>${u.mailto ? `, <mailto:${u.mailto}?subject=unsubscribe>` : ''}`,
    'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
  ];
}
