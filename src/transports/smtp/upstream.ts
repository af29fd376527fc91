import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import type { SmtpConfig } from './config.ts';

/** How the upstream answered one forwarded message. */
export type UpstreamOutcome =
  | { ok: true; response: string; accepted: string[]; rejected: RejectedRecipient[] }
  /** `temporary`: the client gets 451 and retries (4xx, timeout, unreachable); else the upstream's 5xx is relayed. */
  | { ok: false; temporary: boolean; code: number; detail: string };

/** A recipient the upstream refused at RCPT TO while it took the message for others. */
export interface RejectedRecipient {
  /** The address as nodemailer sent it. */
  recipient: string;
  /** `temporary`: a 4xx (the recipient may take it later); else a 5xx. */
  temporary: boolean;
  code: number;
  detail: string;
}

/** The sender's real SMTP service (config `smtp.upstream`), through nodemailer's (pooled) SMTP transport. */
export class SmtpUpstream {
  readonly #transport: ReturnType<typeof nodemailer.createTransport>;
  readonly #timeoutMs: number;
  readonly label: string;

  constructor(cfg: SmtpConfig) {
    const u = cfg.upstream;
    this.#timeoutMs = u.timeoutMs;
    this.label = `${u.host}:${u.port}`;
    const dkim = cfg.dkim ? { domainName: cfg.dkim.domainName, keySelector: cfg.dkim.keySelector, privateKey: readFileSync(cfg.dkim.privateKeyFile, 'utf8') } : undefined;
    const opts = {
      host: u.host, port: u.port, secure: u.secure,
      ...(u.auth ? { auth: { user: u.auth.user, pass: u.auth.pass } } : {}),
      connectionTimeout: u.timeoutMs, greetingTimeout: u.timeoutMs, socketTimeout: u.timeoutMs, dnsTimeout: u.timeoutMs,
      tls: { rejectUnauthorized: u.rejectUnauthorized },
      ...(dkim ? { dkim } : {}),
      logger: false, debug: false,
    };
    this.#transport = u.pool
      ? nodemailer.createTransport({ ...opts, pool: true, maxConnections: u.maxConnections, maxMessages: 1000 })
      : nodemailer.createTransport(opts);
  }

  /**
   * Sends `message` (the complete RFC 5322 message as a stream, sent as it is: nodemailer's raw
   * mode) to `to` with envelope sender `from` (`''` = null sender). Resolves once the upstream
   * answered the end of DATA (or failed). When `message` errors, the upstream connection is closed
   * before the final `.`, so the upstream never takes a partial message. Bounded by `timeoutMs`
   * per step (connect, greeting, each reply), plus one overall bound of 2 × timeoutMs after the
   * message's last byte. A success may still list recipients the upstream refused at RCPT TO
   * (`rejected`, with their 4xx/5xx): the caller decides what the client is told. Never throws.
   */
  send(from: string, to: readonly string[], message: Readable, opts: { dsn?: { notify: string[]; ret?: 'HDRS' | 'FULL'; envid?: string } } = {}): Promise<UpstreamOutcome> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (o: UpstreamOutcome) => { if (!done) { done = true; clearTimeout(timer); resolve(o); } };
      let timer: NodeJS.Timeout | undefined;
      message.once('end', () => {
        timer = setTimeout(() => finish({ ok: false, temporary: true, code: 451, detail: `no answer within ${2 * this.#timeoutMs} ms` }), 2 * this.#timeoutMs);
      });
      this.#transport.sendMail({
        envelope: { from: from || '', to: [...to] }, raw: message, disableFileAccess: true, disableUrlAccess: true,
        ...(opts.dsn ? { dsn: opts.dsn } : {}),
      } as never, (err: (Error & { responseCode?: number; code?: string; response?: string }) | null, info?: { response?: string; accepted?: unknown[]; rejectedErrors?: Array<Error & { recipient?: string; responseCode?: number; response?: string }> }) => {
        if (!err) {
          const list = (v: unknown[] | undefined) => (v ?? []).map((a) => (typeof a === 'string' ? a : (a as { address?: string }).address ?? ''));
          const rejected = (info?.rejectedErrors ?? []).map((e): RejectedRecipient => {
            const c = classify(e);
            return { recipient: String(e.recipient ?? ''), temporary: c.temporary, code: c.code, detail: c.detail };
          });
          return finish({ ok: true, response: String(info?.response ?? ''), accepted: list(info?.accepted), rejected });
        }
        finish(classify(err));
      });
    });
  }

  /** Closes pooled connections. */
  close(): void { this.#transport.close(); }
}

/** An upstream failure as the client's reply: 4xx, timeouts and unreachable → 451; 5xx → relayed. */
export function classify(err: Error & { responseCode?: number; code?: string; response?: string }): UpstreamOutcome & { ok: false } {
  const code = err.responseCode;
  const detail = oneLine(err.response ?? err.message ?? String(err));
  if (typeof code === 'number' && code >= 500 && code < 600) return { ok: false, temporary: false, code, detail };
  return { ok: false, temporary: true, code: 451, detail: code ? detail : `${err.code ?? 'error'}: ${detail}` };
}

/** A reply text safe to put in one SMTP reply line (no control characters, bounded). */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 300);
}
