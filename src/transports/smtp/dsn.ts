import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { RemovedRecipient } from '../../check/removal-reports.ts';
import type { HeaderField } from './headers.ts';
import type { TransactionDeps } from './transaction.ts';

/** One failed recipient of a DSN: its address, RFC 3463 status and the SMTP diagnostic. */
export interface DsnEntry { recipient: string; status: string; diagnostic: string }

/** Why the recipients of a DSN did not get the message (chooses the human-readable text). */
export type DsnKind = 'consent' | 'upstream';

const HUMAN: Record<DsnKind, { subject: string; text: string[] }> = {
  consent: {
    subject: 'Undelivered mail: recipients refused by the consent check',
    text: ['Your message was not forwarded to these recipients: they have no consent for it in İYS',
      '(Mesajınız bu alıcılara iletilmedi: İYS\'de bu ileti için onayları yok).'],
  },
  upstream: {
    subject: 'Undelivered mail: recipients refused by the outbound mail service',
    text: ['Your message was delivered to the other recipients, but the outbound mail service refused it for these',
      '(Mesajınız diğer alıcılara iletildi; giden posta sunucusu bu alıcılar için reddetti).'],
  },
};

/**
 * The delivery status notification (RFC 3464 `multipart/report; report-type=delivery-status`):
 * a human part (English and Turkish, each recipient's diagnostic, the removal report id), a
 * `message/delivery-status` part (`Action: failed`, each entry's `Status` and
 * `Diagnostic-Code: smtp; …`), and the original header block as `text/rfc822-headers`.
 * `consent`: recipients refused after DATA (`5.7.1 GW_ERR_SMTP_RECIPIENT_REFUSED <reason>`);
 * `upstream`: recipients the upstream refused permanently while it took the message for others.
 * Sent with the null envelope sender (RFC 5321 §4.5.5).
 */
export function buildDsn(opts: { to: string; via: string; headerBlock: string; entries: readonly DsnEntry[]; kind: DsnKind; reportId: string | null; now: Date }): Buffer {
  const b = `iysgate-${randomUUID()}`;
  const date = opts.now.toUTCString().replace('GMT', '+0000');
  const human = HUMAN[opts.kind];
  const list = opts.entries.map((r) => `  ${r.recipient}: ${r.diagnostic}`).join('\r\n');
  const status = opts.entries.map((r) => [
    `Final-Recipient: rfc822; ${r.recipient}`, 'Action: failed', `Status: ${r.status}`,
    `Diagnostic-Code: smtp; ${r.diagnostic}`,
  ].join('\r\n')).join('\r\n\r\n');
  return Buffer.from([
    `From: iys-gate <mailer-daemon@${opts.via}.iys-gate.invalid>`, `To: <${opts.to}>`,
    `Subject: ${human.subject}`, `Date: ${date}`,
    `Message-ID: <${randomUUID()}@iys-gate.invalid>`, 'Auto-Submitted: auto-replied', 'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${b}"`, '',
    `--${b}`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '',
    ...human.text, '', list, '',
    ...(opts.reportId ? [`Removal report: ${opts.reportId}`, ''] : []),
    `--${b}`, 'Content-Type: message/delivery-status', '',
    `Reporting-MTA: dns; ${opts.via}.iys-gate.invalid`, `Arrival-Date: ${date}`, '', status, '',
    `--${b}`, 'Content-Type: text/rfc822-headers', '', opts.headerBlock.replace(/\r\n$/, ''), '',
    `--${b}--`, '',
  ].join('\r\n'), 'utf8');
}

/** The DSN entries of recipients refused by the consent decision after DATA. */
export function consentEntries(removed: readonly RemovedRecipient[]): DsnEntry[] {
  return removed.map((r) => ({ recipient: r.input, status: '5.7.1', diagnostic: `550 5.7.1 GW_ERR_SMTP_RECIPIENT_REFUSED ${r.reason}` }));
}

/**
 * Sends the DSN to `to` through the upstream. @returns true when the upstream took it (250).
 * Never throws.
 */
export async function sendDsn(t: TransactionDeps, to: string, fields: readonly HeaderField[], entries: readonly DsnEntry[], kind: DsnKind, reportId: string | null): Promise<boolean> {
  const keepHeaders = new Set(['from', 'to', 'subject', 'date', 'message-id']);
  const headerBlock = fields.filter((f) => keepHeaders.has(f.name)).map((f) => `${f.name}: ${f.value}\r\n`).join('');
  const msg = buildDsn({ to, via: t.via, headerBlock, entries, kind, reportId, now: new Date(t.deps.now()) });
  const o = await t.upstream.send('', [to], Readable.from([msg]));
  t.deps.metrics.smtpMessage(t.via, o.ok ? 'dsn_sent' : 'dsn_failed');
  return o.ok;
}
