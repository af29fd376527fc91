import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as netServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as tlsServer } from 'node:tls';
import smpp from 'smpp';
import type { CheckService } from '../../check/check-service.ts';
import type { PromotionalPolicy } from '../../domain/promo-lint.ts';
import type { SmppBindConfig, SmppConfig } from './config.ts';
import { readConfigFile } from './config.ts';
import { DeliverRelay } from './deliver-relay.ts';
import { SmppLink } from './link.ts';
import type { SmppMetrics } from './metrics.ts';
import { relayOnly, type MobileOriginatedHandler } from './mobile-originated.ts';
import { CMD, RESP_BIT, ST, cmdOf, cstringResp, headerPdu, seqOf } from './pdu.ts';
import { SubmitScreen } from './submit.ts';
import { UpstreamPool, type SmppLog } from './upstream-pool.ts';

/** How an ESME session is bound. */
export type BindMode = 'transmitter' | 'receiver' | 'transceiver';

/** One ESME connection. */
export class EsmeSession {
  systemId = '';
  bind: SmppBindConfig | null = null;
  mode: BindMode | null = null;
  /** Submits accepted and not answered yet (the ESME's window as the gate sees it). */
  inFlight = 0;
  unbinding = -1;
  constructor(readonly link: SmppLink, readonly id: number) {}
  get canSubmit(): boolean { return this.mode === 'transmitter' || this.mode === 'transceiver'; }
  get canReceive(): boolean { return this.mode === 'receiver' || this.mode === 'transceiver'; }

  /** Answers a submit: writes the response and frees its window slot; sends the held unbind_resp after the last one. */
  answer(resp: Buffer): void {
    this.inFlight--;
    this.link.send(resp);
    if (this.unbinding >= 0 && this.inFlight === 0) this.finishUnbind();
  }

  finishUnbind(): void {
    this.link.send(headerPdu(CMD.unbind_resp, 0, this.unbinding));
    this.link.socket.end();
  }
}

/** What the front needs. */
export interface SmppFrontDeps {
  config: SmppConfig;
  checks: CheckService;
  /** `policy.promotionalInformational` (a bind may override it). */
  policy: PromotionalPolicy;
  log: SmppLog;
  /** Built by the caller on the gateway's registry (optional in tests). */
  metrics?: (front: SmppFront) => SmppMetrics;
  /** MO handler (issue 14's opt-out capture); default: relay only. */
  onMobileOriginated?: MobileOriginatedHandler;
}

const BIND_RESP: Record<number, number> = {
  [CMD.bind_transmitter]: CMD.bind_transmitter_resp,
  [CMD.bind_receiver]: CMD.bind_receiver_resp,
  [CMD.bind_transceiver]: CMD.bind_transceiver_resp,
};
const BIND_MODE: Record<number, BindMode> = {
  [CMD.bind_transmitter]: 'transmitter', [CMD.bind_receiver]: 'receiver', [CMD.bind_transceiver]: 'transceiver',
};
/** Request commands of SMPP 3.4 the gate knows but does not serve (answered with their own _resp, ESME_RINVCMDID). replace_sm would change a screened text. */
const REFUSED = new Set(['query_sm', 'cancel_sm', 'replace_sm', 'outbind', 'alert_notification', 'broadcast_sm', 'query_broadcast_sm', 'cancel_broadcast_sm']
  .map((c) => (smpp.commands[c]?.id ?? 0) >>> 0).filter((id) => id !== 0));

/**
 * The SMPP front (README "SMPP"): an SMSC towards ESMEs (`smpp.binds[]`), an ESME towards the
 * upstream SMSCs (`smpp.upstreams[]`). Every submit_sm / data_sm / submit_multi is screened by
 * the gate's one screening (submit.ts → check/screening.ts); allowed PDUs go upstream unchanged
 * but for the sequence number and the upstream's response comes back to the ESME; deliver_sm
 * (receipts, MO) are relayed to the ESME bound for them (deliver-relay.ts).
 */
export class SmppFront {
  readonly #cfg: SmppConfig;
  readonly #log: SmppLog;
  readonly #server: Server;
  readonly #sessions = new Set<EsmeSession>();
  readonly #binds = new Map<string, SmppBindConfig>();
  readonly #throughput = new Map<string, { second: number; count: number }>();
  readonly pools = new Map<string, UpstreamPool>();
  readonly metrics: SmppMetrics | null;
  readonly #submit: SubmitScreen;
  readonly #relay: DeliverRelay;
  #nextId = 1;
  #closing = false;

  constructor(deps: SmppFrontDeps) {
    this.#cfg = deps.config;
    this.#log = deps.log;
    for (const b of deps.config.binds) this.#binds.set(b.systemId, b);
    this.#relay = new DeliverRelay({ config: deps.config, log: deps.log, sessions: this.#sessions, onMobileOriginated: deps.onMobileOriginated ?? relayOnly, count: (o) => this.metrics?.pdu('deliver_sm', o) });
    for (const u of deps.config.upstreams) {
      this.pools.set(u.name, new UpstreamPool(u, { maxPduBytes: deps.config.maxPduBytes, log: deps.log }, {
        onDeliver: (pdu, answer) => this.#relay.fromUpstream(u.name, pdu, answer),
      }));
    }
    this.metrics = deps.metrics ? deps.metrics(this) : null;
    this.#submit = new SubmitScreen({ config: deps.config, checks: deps.checks, policy: deps.policy, log: deps.log, pools: this.pools, metrics: this.metrics, relay: this.#relay });
    const onSocket = (socket: Socket) => this.#accept(socket);
    this.#server = deps.config.tls
      ? tlsServer({ key: readConfigFile(deps.config.tls.keyFile, 'smpp.tls.keyFile'), cert: readConfigFile(deps.config.tls.certFile, 'smpp.tls.certFile') }, onSocket)
      : netServer(onSocket);
  }

  /** Bound ESME sessions (metrics). */
  *boundSessions(): Iterable<{ systemId: string; mode: string }> {
    for (const s of this.#sessions) if (s.mode !== null) yield { systemId: s.systemId, mode: s.mode };
  }

  /** The port listened on (0 before `listen`). */
  get listeningPort(): number { const a = this.#server.address(); return a !== null && typeof a === 'object' ? a.port : 0; }

  /** Starts the upstream binds and listens on `smpp.host:smpp.port`. @returns the port */
  async listen(): Promise<number> {
    for (const p of this.pools.values()) p.start();
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#cfg.port, this.#cfg.host, () => { this.#server.off('error', reject); resolve(); });
    });
    const port = (this.#server.address() as AddressInfo).port;
    this.#log.info({ port }, `SMPP front listening on ${this.#cfg.host}:${port}`);
    return port;
  }

  /** Unbinds ESMEs and upstreams, stops listening (bounded: sockets are cut after 2 s). */
  async close(): Promise<void> {
    this.#closing = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sessions) {
      if (s.mode !== null) s.link.unbind(); else s.link.destroy();
      setTimeout(() => s.link.destroy(), 2_000).unref();
    }
    this.#submit.close();
    this.#relay.close();
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    await closed;
  }

  #accept(socket: Socket): void {
    if (this.#closing) { socket.destroy(); return; }
    let session: EsmeSession;
    const link = new SmppLink(socket, { maxPduBytes: this.#cfg.maxPduBytes, responseTimeoutMs: this.#cfg.responseTimeoutMs, enquireLinkMs: this.#cfg.enquireLinkMs }, {
      onRequest: (pdu) => this.#request(session, pdu),
      onClose: () => { this.#sessions.delete(session); clearTimeout(bindTimer); },
      onMalformed: () => this.metrics?.pdu('other', 'malformed'),
    });
    session = new EsmeSession(link, this.#nextId++);
    this.#sessions.add(session);
    const bindTimer = setTimeout(() => { if (session.mode === null) link.destroy(); }, this.#cfg.bindTimeoutMs);
    bindTimer.unref();
  }

  #request(s: EsmeSession, pdu: Buffer): void {
    const cmd = cmdOf(pdu);
    const seq = seqOf(pdu);
    if (cmd === CMD.submit_sm || cmd === CMD.data_sm || cmd === CMD.submit_multi) {
      const respCmd = (cmd | RESP_BIT) >>> 0;
      const name = cmd === CMD.submit_sm ? 'submit_sm' : cmd === CMD.data_sm ? 'data_sm' : 'submit_multi';
      if (!s.canSubmit || s.unbinding >= 0) { this.metrics?.pdu(name, 'refused'); s.link.send(cstringResp(respCmd, ST.RINVBNDSTS, seq, '')); return; }
      const bind = s.bind!;
      if (s.inFlight >= bind.maxWindow) { this.metrics?.pdu(name, 'throttled'); s.link.send(cstringResp(respCmd, ST.RMSGQFUL, seq, '')); return; }
      if (bind.throughputPerSecond > 0 && !this.#take(bind)) { this.metrics?.pdu(name, 'throttled'); s.link.send(cstringResp(respCmd, ST.RTHROTTLED, seq, '')); return; }
      s.inFlight++;
      this.#submit.handle(s, pdu, name);
      return;
    }
    if (BIND_RESP[cmd] !== undefined) { this.#bind(s, pdu, cmd, seq); return; }
    if (cmd === CMD.unbind) {
      this.metrics?.pdu('unbind', 'forwarded');
      if (s.mode === null) { s.link.send(headerPdu(CMD.unbind_resp, ST.RINVBNDSTS, seq)); return; }
      s.unbinding = seq;
      if (s.inFlight === 0) s.finishUnbind(); // else after the last submit in flight is answered
      return;
    }
    this.metrics?.pdu('other', 'refused');
    if (REFUSED.has(cmd)) s.link.send(headerPdu((cmd | RESP_BIT) >>> 0, s.mode === null ? ST.RINVBNDSTS : ST.RINVCMDID, seq));
    else s.link.send(headerPdu(CMD.generic_nack, ST.RINVCMDID, seq));
  }

  /** Submits per second of one bind (all its sessions): false past `throughputPerSecond`. */
  #take(bind: SmppBindConfig): boolean {
    const sec = Math.floor(Date.now() / 1000);
    let t = this.#throughput.get(bind.systemId);
    if (t === undefined) { t = { second: sec, count: 0 }; this.#throughput.set(bind.systemId, t); }
    if (t.second !== sec) { t.second = sec; t.count = 0; }
    return ++t.count <= bind.throughputPerSecond;
  }

  #bind(s: EsmeSession, pdu: Buffer, cmd: number, seq: number): void {
    const respCmd = BIND_RESP[cmd]!;
    const refuse = (status: number, why: string) => {
      this.metrics?.pdu('bind', 'refused');
      this.#log.warn({ status, why }, `SMPP bind refused: ${why}`);
      s.link.send(cstringResp(respCmd, status, seq, ''));
    };
    if (s.mode !== null) { refuse(ST.RALYBND, 'already bound'); return; }
    let systemId: string; let password: string;
    try {
      const p = new smpp.PDU(Buffer.from(pdu));
      systemId = typeof p.system_id === 'string' ? p.system_id : '';
      password = typeof p.password === 'string' ? p.password : '';
    } catch {
      refuse(ST.RBINDFAIL, 'malformed bind PDU');
      return;
    }
    const bind = this.#binds.get(systemId);
    if (bind === undefined) { refuse(ST.RINVSYSID, 'unknown system_id'); return; }
    if (!passwordMatches(bind, password)) { refuse(ST.RINVPASWD, `wrong password for ${systemId}`); return; }
    s.systemId = systemId; s.bind = bind; s.mode = BIND_MODE[cmd]!;
    this.metrics?.pdu('bind', 'forwarded');
    s.link.send(cstringResp(respCmd, 0, seq, 'iys-gate'));
    this.#log.info({ systemId, mode: s.mode }, `SMPP bind ${systemId} (${s.mode})`);
    if (s.canReceive) this.#relay.receiverBound(s);
  }
}

/** Constant-time password check (plain or sha256 hex of it). */
function passwordMatches(bind: SmppBindConfig, given: string): boolean {
  const want = bind.passwordSha256 ?? createHash('sha256').update(bind.password!, 'utf8').digest('hex');
  const got = createHash('sha256').update(given, 'utf8').digest('hex');
  return timingSafeEqual(Buffer.from(want, 'hex'), Buffer.from(got, 'hex'));
}
