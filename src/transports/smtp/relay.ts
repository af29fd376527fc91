import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerAuthentication, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { CheckService } from '../../check/check-service.ts';
import { removalReports, type RemovalReports } from '../../check/removal-reports.ts';
import { screenOutbound } from '../../check/screening.ts';
import type { GatewayConfig } from '../../config/schema.ts';
import { normalizeRecipient } from '../../domain/recipient.ts';
import type { MessageType, Reason, RecipientType } from '../../domain/types.ts';
import { hasBrand, hasScope, type KeyRing } from '../../plugins/api-keys.ts';
import type { GatewayMetrics } from '../../plugins/metrics.ts';
import { maskPii } from '../../plugins/redact.ts';
import type { SmtpConfig } from './config.ts';
import { recipientReply, smtpAuthReply, smtpReply, type SmtpReplyError } from './replies.ts';
import { relayMessage, type RcptRefusal } from './transaction.ts';
import { DeliveredCopies } from './delivered-copies.ts';
import { SmtpUpstream } from './upstream.ts';

/** Who is sending on one SMTP session (set at AUTH). */
export interface SmtpSender {
  keyName: string;
  brands: readonly number[] | '*';
  brandCode: number;
  messageType: MessageType;
  recipientType: RecipientType;
}

/** Per-transaction state beside smtp-server's envelope (RCPT-time refusals, for the report). */
export interface EnvelopeState { refused: RcptRefusal[] }

/** Minimal logger (pino-compatible). */
export interface RelayLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the relay needs from the gateway (app.ts builds it). */
export interface SmtpRelayDeps {
  config: GatewayConfig & { smtp: SmtpConfig };
  checks: CheckService;
  keys: KeyRing;
  /** Brands this gateway serves (auth.ts `servedBrandsOf`); empty = any brand a key holds. */
  servedBrands: readonly number[];
  metrics: GatewayMetrics;
  log: RelayLog;
  /** Epoch ms clock. */
  now: () => number;
}

/**
 * The SMTP submission relay (issue 13, README "Sending e-mail through iys-gate"): an
 * smtp-server listener in front of `smtp.upstream`. AUTH PLAIN/LOGIN with an API key (user = the
 * key's name, password = the key, scope `smtp`); no AUTH, no relay (530). A TICARI key's
 * recipients are decided at RCPT TO (550 5.7.1 refused, 451 4.7.1 undecidable now); a
 * BILGILENDIRME key's (or one narrowed by X-IYS-* headers) after DATA's text is read
 * (transaction.ts). Forwarding is synchronous: DATA is answered 250 only after the upstream
 * answered 250 for every recipient (or refused some permanently and took the DSN saying so);
 * no spool. A partial delivery is answered 451 and remembered in `copies`, so the client's retry
 * goes only to the recipients that do not have it (transaction.ts `settle`).
 */
export class SmtpRelay {
  readonly name: string;
  readonly #deps: SmtpRelayDeps;
  readonly #cfg: SmtpConfig;
  readonly #server: SMTPServer;
  readonly upstream: SmtpUpstream;
  readonly reports: RemovalReports;
  /** Recipients that have a partially delivered message (its retry skips them). */
  readonly copies: DeliveredCopies;
  readonly #envelopes = new WeakMap<object, EnvelopeState>();
  #closing = false;
  /** Sessions inside a DATA transaction (shutdown waits for them). */
  #inData = 0;
  #idle: (() => void) | null = null;

  constructor(deps: SmtpRelayDeps) {
    this.#deps = deps;
    this.#cfg = deps.config.smtp;
    this.name = this.#cfg.name;
    this.reports = removalReports(deps.config);
    this.upstream = new SmtpUpstream(this.#cfg);
    this.copies = new DeliveredCopies(this.#cfg.retryMemoryMs, this.#cfg.retryMemoryRecipients);
    const tls = this.#cfg.tls ? { key: readFileSync(this.#cfg.tls.key), cert: readFileSync(this.#cfg.tls.cert) } : undefined;
    this.#server = new SMTPServer({
      name: 'iys-gate', banner: 'iys-gate SMTP relay (İYS consent screening)',
      ...(tls ?? {}),
      hideSTARTTLS: !tls,
      allowInsecureAuth: this.#cfg.allowInsecureAuth ?? !tls,
      authMethods: ['PLAIN', 'LOGIN'],
      // AUTH is checked by onMailFrom/onRcptTo with a coded 530 (no AUTH, no relay)
      authOptional: true,
      size: this.#cfg.maxMessageBytes, rejectOversized: true,
      maxClients: this.#cfg.maxConnections,
      socketTimeout: this.#cfg.idleTimeoutMs,
      closeTimeout: Math.max(1, deps.config.shutdownDrainMs),
      disableReverseLookup: true,
      hideENHANCEDSTATUSCODES: true,
      logger: false,
      onAuth: (auth, session, cb) => this.#onAuth(auth, session, cb),
      onMailFrom: (address, session, cb) => this.#onMailFrom(address, session, cb),
      onRcptTo: (address, session, cb) => { void this.#onRcptTo(address, session, cb); },
      onData: (stream, session, cb) => { void this.#onData(stream, session, cb); },
      onConnect: (session, cb) => {
        deps.metrics.smtpSession('opened');
        cb(this.#closing ? smtpReply(421, '4.3.2', 'GW_ERR_SHUTTING_DOWN') : null);
      },
    });
    this.#server.on('error', (err: Error) => deps.log.warn({ err: { message: maskPii(err.message) } }, 'smtp: connection error'));
  }

  /** Listens on `smtp.host:smtp.port`. @returns the bound address */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#cfg.port, this.#cfg.host, () => {
        this.#server.off('error', reject);
        const a = this.#server.server.address() as AddressInfo;
        this.#deps.log.info({ smtp: `${a.address}:${a.port}`, upstream: this.upstream.label }, `SMTP relay listening on ${a.address}:${a.port}`);
        resolve(a);
      });
    });
  }

  /**
   * Graceful close: stop accepting, answer new transactions 421, let sessions inside DATA finish
   * within `waitMs` (default config shutdownDrainMs), then close every connection and the pool.
   */
  async close(waitMs = this.#deps.config.shutdownDrainMs): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    if (this.#inData > 0) {
      await Promise.race([new Promise<void>((r) => { this.#idle = r; }), new Promise((r) => setTimeout(r, waitMs).unref())]);
    }
    for (const c of (this.#server as unknown as { connections: Set<{ send(code: number, text: string): void; close(): void }> }).connections) {
      try { c.send(421, '4.3.2 GW_ERR_SHUTTING_DOWN: the gateway is shutting down; retry later'); c.close(); } catch { /* already gone */ }
    }
    await closed;
    this.upstream.close();
  }

  #onAuth(auth: SMTPServerAuthentication, _session: SMTPServerSession, cb: (err: Error | null | undefined, res?: { user?: unknown }) => void): void {
    const fail = (e: SmtpReplyError) => { this.#deps.metrics.smtpSession('auth_failed'); cb(e); };
    const p = auth.password ? this.#deps.keys.verify(auth.password) : null;
    if (!p || p.name !== auth.username) return fail(smtpAuthReply(535));
    if (!hasScope(p, 'smtp')) return fail(smtpReply(535, '5.7.8', 'GW_ERR_FORBIDDEN', ['scope smtp']));
    const served = this.#deps.servedBrands;
    const brandCode = p.smtp?.brandCode
      ?? (p.brands !== '*' && p.brands.length === 1 ? p.brands[0] : p.brands === '*' && served.length === 1 ? served[0] : undefined);
    if (brandCode === undefined) return fail(smtpReply(535, '5.7.8', 'GW_ERR_BRAND_REQUIRED', ['set apiKeys[].smtp.brandCode for a key of several brands']));
    if (!hasBrand(p, brandCode)) return fail(smtpReply(535, '5.7.8', 'GW_ERR_FORBIDDEN', [`brand ${brandCode}`]));
    if (served.length > 0 && !served.includes(brandCode)) return fail(smtpReply(535, '5.7.8', 'GW_ERR_UNKNOWN_BRAND', [brandCode, served.join(', ')]));
    const user: SmtpSender = {
      keyName: p.name, brands: p.brands, brandCode,
      messageType: p.smtp?.messageType ?? 'TICARI', recipientType: p.smtp?.recipientType ?? 'BIREYSEL',
    };
    cb(null, { user });
  }

  #onMailFrom(_address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    if (this.#closing) return cb(smtpReply(421, '4.3.2', 'GW_ERR_SHUTTING_DOWN'));
    if (!session.user) return cb(smtpAuthReply(530, '; no relay without it'));
    this.#envelopes.set(session.envelope, { refused: [] });
    cb();
  }

  async #onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void): Promise<void> {
    const user = session.user as SmtpSender | undefined;
    if (!user) return cb(smtpAuthReply(530));
    const m = this.#deps.metrics;
    if (session.envelope.rcptTo.length >= this.#cfg.maxRecipients) {
      m.smtpRecipients('too_many', 1);
      return cb(smtpReply(452, '4.5.3', 'GW_ERR_SMTP_TOO_MANY_RECIPIENTS', [this.#cfg.maxRecipients]));
    }
    const st = this.#envelopes.get(session.envelope) ?? { refused: [] };
    this.#envelopes.set(session.envelope, st);
    const refuse = (reason: Reason, decisionId?: string) => {
      st.refused.push({ input: address.address, recipient: null, reason });
      m.smtpRecipients(reason === 'STORE_UNAVAILABLE' || reason === 'MIRROR_STALE' ? 'deferred' : 'refused', 1);
      cb(recipientReply(reason, decisionId));
    };
    if (user.messageType !== 'TICARI') {
      // decided after DATA (the text matters); only what can never be keyed is refused now
      const n = normalizeRecipient(address.address, 'EPOSTA');
      if (!n.ok) return refuse('INVALID_RECIPIENT');
      return cb();
    }
    try {
      const s = await screenOutbound(this.#deps.checks, {
        entrance: 'smtp', via: this.name, brandCode: user.brandCode, type: 'EPOSTA', recipientType: user.recipientType,
        messageType: 'TICARI', recipients: [address.address], texts: [],
        keyName: user.keyName,
      }, { policy: this.#deps.config.policy.promotionalInformational, commit: 'later' }); // committed before DATA forwards (transaction.ts)
      const r = s.results[0]!;
      const decisionId = s.decisionId ?? undefined;
      if (r.decision === 'ALLOW') return cb();
      st.refused[st.refused.length] = { input: address.address, recipient: r.recipient, reason: r.reason };
      m.smtpRecipients(r.reason === 'STORE_UNAVAILABLE' || r.reason === 'MIRROR_STALE' ? 'deferred' : 'refused', 1);
      cb(recipientReply(r.reason, decisionId));
    } catch (err) {
      this.#deps.log.error({ err: { message: maskPii((err as Error).message) } }, 'smtp: RCPT screening failed');
      refuse('STORE_UNAVAILABLE');
    }
  }

  async #onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): Promise<void> {
    this.#inData++;
    // the whole DATA phase is bounded: past smtp.dataTimeoutMs the client gets 451 4.4.2 and the
    // connection closes (its stream then errors, so nothing half-read goes upstream)
    const timer = setTimeout(() => {
      const conn = [...(this.#server as unknown as { connections: Set<{ session: { id: string }; send(c: number, t: string): void; close(): void }> }).connections]
        .find((c) => c.session.id === session.id);
      this.#deps.metrics.smtpMessage(this.name, 'data_timeout');
      if (conn) { try { conn.send(451, `4.4.2 GW_ERR_REQUEST_TIMEOUT: DATA not complete within ${this.#cfg.dataTimeoutMs} ms (smtp.dataTimeoutMs); nothing was sent`); conn.close(); } catch { /* gone */ } }
    }, this.#cfg.dataTimeoutMs);
    try {
      const st = this.#envelopes.get(session.envelope) ?? { refused: [] };
      const reply = await relayMessage({
        deps: this.#deps, cfg: this.#cfg, via: this.name, upstream: this.upstream, reports: this.reports, copies: this.copies,
      }, stream, session, session.user as SmtpSender, st);
      if (reply.ok) cb(null, reply.text); else cb(reply.error);
    } catch (err) {
      this.#deps.log.error({ err: { message: maskPii((err as Error).message) } }, 'smtp: DATA failed');
      stream.resume();
      cb(smtpReply(451, '4.3.0', 'GW_ERR_INTERNAL'));
    } finally {
      clearTimeout(timer);
      this.#inData--;
      if (this.#inData === 0) this.#idle?.();
    }
  }
}
