import type { Reason } from '../../domain/types.ts';
import { ERROR_DEFINITIONS, type ErrorCode } from '../../errors.ts';

/**
 * An SMTP reply as smtp-server sends it from a handler error: `responseCode` and one line of
 * text starting with the enhanced status code (RFC 3463), then the gateway's coded error
 * (`GW_ERR_…`, src/errors.ts, README table) and, for a decision, its reason code.
 */
export interface SmtpReplyError extends Error { responseCode: number; gwCode: ErrorCode }

/** Reasons a client should retry later (451 4.7.1): the gate could not decide now. */
export const TEMPORARY_REASONS: ReadonlySet<Reason> = new Set<Reason>(['STORE_UNAVAILABLE', 'MIRROR_STALE']);

/**
 * Builds the reply error `<code> <enhanced> <GW_ERR_…>: <text of the code's template> [extra]`.
 * @param args values for the code's `%s` placeholders (src/errors.ts)
 */
export function smtpReply(code: number, enhanced: string, gwCode: ErrorCode, args: readonly unknown[] = [], extra = ''): SmtpReplyError {
  let i = 0;
  const text = ERROR_DEFINITIONS[gwCode].message.replace(/%s/g, () => String(args[i++] ?? ''));
  // eslint-disable-next-line no-control-regex
  const line = `${enhanced} ${gwCode}: ${text}${extra ? ' ' + extra : ''}`.replace(/[\x00-\x1f\x7f]+/g, ' ');
  const err = new Error(line) as SmtpReplyError;
  err.responseCode = code;
  err.gwCode = gwCode;
  return err;
}

/**
 * The reply to a missing or refused AUTH (530 5.7.0 before AUTH, 535 5.7.8 for unknown
 * credentials): GW_ERR_UNAUTHORIZED with the SMTP way to authenticate, not the HTTP routes'
 * (the code's template names Bearer headers, which an SMTP client cannot send). README
 * "Sending e-mail through iys-gate", AUTH.
 */
export function smtpAuthReply(code: 530 | 535, extra = ''): SmtpReplyError {
  const enhanced = code === 530 ? '5.7.0' : '5.7.8';
  const err = new Error(`${enhanced} GW_ERR_UNAUTHORIZED: Missing or unknown API key (SMTP: AUTH PLAIN or LOGIN, user = the API key name, password = the key, scope smtp${extra})`) as SmtpReplyError;
  err.responseCode = code;
  err.gwCode = 'GW_ERR_UNAUTHORIZED';
  return err;
}

/** The RCPT reply for a refused or deferred recipient (issue 13 "Decisions"). */
export function recipientReply(reason: Reason, decisionId?: string): SmtpReplyError {
  const tail = decisionId ? `(decision ${decisionId})` : '';
  if (reason === 'INVALID_RECIPIENT') return smtpReply(553, '5.1.3', 'GW_ERR_INVALID_RECIPIENT', ['not an address the gate can key (RFC 5321 mailbox with a host name)'], tail);
  if (TEMPORARY_REASONS.has(reason)) return smtpReply(451, '4.7.1', 'GW_ERR_SMTP_RECIPIENT_DEFERRED', [reason], tail);
  return smtpReply(550, '5.7.1', 'GW_ERR_SMTP_RECIPIENT_REFUSED', [reason], tail);
}
