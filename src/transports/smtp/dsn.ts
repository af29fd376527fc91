import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { RemovedRecipient } from '../../check/removal-reports.ts';
import type { HeaderField } from './headers.ts';
import type { TransactionDeps } from './transaction.ts';

/**
 * The delivery status notification (RFC 3464 `multipart/report; report-type=delivery-status`)
 * for recipients refused after DATA: a human part (English and Turkish, each recipient's reason
 * code, the removal report id), a `message/delivery-status` part (`Action: failed`,
 * `Status: 5.7.1`, `Diagnostic-Code: smtp; 550 5.7.1 GW_ERR_SMTP_RECIPIENT_REFUSED <reason>`),
 * and the original header block as `text/rfc822-headers`. Null envelope sender (RFC 5321 §4.5.5).
 */
export function buildDsn(opts: { to: string; via: string; headerBlock: string; removed: readonly RemovedRecipient[]; reportId: string | null; now: Date }): Buffer {
  const b = `iysgate-${randomUUID()}`;
  const date = opts.now.toUTCString().replace('GMT', '+0000');
  const list = opts.removed.map((r) => `  ${r.input}: ${r.reason}`).join('\r\n');
  const status = opts.removed.map((r) => [
    `Final-Recipient: rfc822; ${r.input}`, 'Action: failed', 'Status: 5.7.1',
    `Diagnostic-Code: smtp; 550 5.7.1 GW_ERR_SMTP_RECIPIENT_REFUSED ${r.reason}`,
  ].join('\r\n')).join('\r\n\r\n');
  return Buffer.from([
    `From: iys-gate <mailer-daemon@${opts.via}.iys-gate.invalid>`, `To: <${opts.to}>`,
    'Subject: Undelivered mail: recipients refused by the consent check', `Date: ${date}`,
    `Message-ID: <${randomUUID()}@iys-gate.invalid>`, 'Auto-Submitted: auto-replied', 'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${b}"`, '',
    `--${b}`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '',
    'Your message was not forwarded to these recipients: they have no consent for it in İYS',
    '(Mesajınız bu alıcılara iletilmedi: İYS\'de bu ileti için onayları yok).', '', list, '',
    ...(opts.reportId ? [`Removal report: ${opts.reportId}`, ''] : []),
    `--${b}`, 'Content-Type: message/delivery-status', '',
    `Reporting-MTA: dns; ${opts.via}.iys-gate.invalid`, `Arrival-Date: ${date}`, '', status, '',
    `--${b}`, 'Content-Type: text/rfc822-headers', '', opts.headerBlock.replace(/\r\n$/, ''), '',
    `--${b}--`, '',
  ].join('\r\n'), 'utf8');
}

/** Sends the DSN to `to` through the upstream (best effort; the removal report holds the same facts). */
export async function sendDsn(t: TransactionDeps, to: string, fields: readonly HeaderField[], removed: readonly RemovedRecipient[], reportId: string | null): Promise<void> {
  const keepHeaders = new Set(['from', 'to', 'subject', 'date', 'message-id']);
  const headerBlock = fields.filter((f) => keepHeaders.has(f.name)).map((f) => `${f.name}: ${f.value}\r\n`).join('');
  const msg = buildDsn({ to, via: t.via, headerBlock, removed, reportId, now: new Date(t.deps.now()) });
  const o = await t.upstream.send('', [to], Readable.from([msg]));
  t.deps.metrics.smtpMessage(t.via, o.ok ? 'dsn_sent' : 'dsn_failed');
}
