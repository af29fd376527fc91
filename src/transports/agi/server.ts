import { createServer, type Server, type Socket } from 'node:net';
import type { CheckService } from '../../check/check-service.ts';
import { screenOutbound } from '../../check/screening.ts';
import type { PromotionalPolicy } from '../../domain/promo-lint.ts';
import type { ConsentType, MessageType, RecipientType } from '../../domain/types.ts';
import { withDeadline } from '../../mirror/deadline.ts';
import type { AgiConfig } from './config.ts';
import { AgiProtocolError, ENV_MAX_LINE_BYTES, parseEnv, parseReply, requestOf, setVariable, type AgiEnv } from './protocol.ts';

/** What a dialplan asks before `Dial()`. */
export interface AgiRequest { brandCode: number; type: ConsentType; messageType: MessageType; recipientType: RecipientType; number: string }
/** What the channel learns: `IYSGATE_DECISION`, `IYSGATE_REASON`, `IYSGATE_DECISION_ID`. */
export interface AgiDecision { decision: 'ALLOW' | 'BLOCK'; reason: string; decisionId?: string | null }
/** The decision of one request (screeningDecide in production; a constant in the echo baseline). */
export type AgiDecide = (req: AgiRequest) => Promise<AgiDecision>;

/** Minimal logger (pino's shape). */
interface Log { warn(obj: object, msg: string): void; info(obj: object, msg: string): void }

/** Counts sessions by decision and reason (bounded labels); prom-client's Counter fits. */
export interface AgiMetrics { session(decision: 'ALLOW' | 'BLOCK', reason: string): void }

export interface AgiServerOptions {
  config: AgiConfig;
  decide: AgiDecide;
  log?: Log | undefined;
  metrics?: AgiMetrics | undefined;
}

/**
 * The gate's decision through the one screening (check/screening.ts, entrance `agi`): the same
 * policy as /v1/check and the decision log. A number that cannot be normalized is
 * `BLOCK INVALID_RECIPIENT`; a store that cannot answer fails closed (`STORE_UNAVAILABLE`).
 */
export function screeningDecide(checks: CheckService, policy: PromotionalPolicy): AgiDecide {
  return async (r) => {
    const s = await screenOutbound(checks, {
      entrance: 'agi', via: 'agi', brandCode: r.brandCode, type: r.type, recipientType: r.recipientType, messageType: r.messageType,
      recipients: [r.number], texts: [], keyName: '',
    }, { policy });
    const res = s.results[0];
    if (!res) return { decision: 'BLOCK', reason: 'PROMOTIONAL_REFUSED', decisionId: s.decisionId };
    return { decision: res.decision, reason: res.reason, decisionId: s.decisionId };
  };
}

const TYPES = new Set(['ARAMA', 'MESAJ']);
const MESSAGE_TYPES = new Set(['TICARI', 'BILGILENDIRME']);
const RECIPIENT_TYPES = new Set(['BIREYSEL', 'TACIR']);
/** A dialed string that can be a number (digits, an optional leading `+`, separators). */
const NUMBERISH = /^\+?[0-9][0-9 ()-]{2,30}$/;

/**
 * The FastAGI pre-dial hook (config `agi`, README "Calls"). A dialplan runs
 * `AGI(agi://gateway:4573/check?brand=600001&type=ARAMA)` before `Dial()`; the server reads the
 * environment, finds the dialed number (`numberFrom`), decides, and sets channel variables
 * `IYSGATE_DECISION` (`ALLOW` | `BLOCK`), `IYSGATE_REASON` (a decision reason such as
 * `CONSENT_RET`, or a gateway code: `GW_ERR_AGI_BAD_REQUEST`, `GW_ERR_UNKNOWN_BRAND`,
 * `GW_ERR_AGI_BUSY`) and `IYSGATE_DECISION_ID`, then closes the connection (the dialplan goes on).
 * Fail closed within bounds: anything malformed, unknown or slow (`decisionTimeoutMs`) is BLOCK.
 * Numbers are never logged in clear.
 */
export class AgiServer {
  readonly #cfg: AgiConfig;
  readonly #decide: AgiDecide;
  readonly #log: Log | undefined;
  readonly #metrics: AgiMetrics | undefined;
  readonly #server: Server;
  readonly #sessions = new Set<Socket>();
  readonly #brands: Set<number>;
  #closing = false;

  constructor(opts: AgiServerOptions) {
    this.#cfg = opts.config;
    this.#decide = opts.decide;
    this.#log = opts.log;
    this.#metrics = opts.metrics;
    this.#brands = new Set(opts.config.brandCodes ?? [opts.config.brandCode]);
    this.#server = createServer({ noDelay: true }, (s) => this.#session(s));
    this.#server.on('error', (err) => this.#log?.warn({ err }, 'agi: listener error'));
  }

  /** Starts listening on `config.host:config.port`. @returns the bound port */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#cfg.port, this.#cfg.host, () => { this.#server.off('error', reject); resolve(); });
    });
    const port = this.port;
    this.#log?.info({ port, host: this.#cfg.host }, `agi: FastAGI pre-dial hook listening on ${this.#cfg.host}:${port}`);
    return port;
  }

  /** The bound port (after listen). */
  get port(): number { const a = this.#server.address(); return typeof a === 'object' && a ? a.port : 0; }

  /** Open sessions now. */
  get sessions(): number { return this.#sessions.size; }

  /** Stops accepting; sessions still deciding finish within `drainMs`, then are cut. */
  async close(drainMs = 0): Promise<void> {
    this.#closing = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const t0 = Date.now();
    while (this.#sessions.size > 0 && Date.now() - t0 < drainMs) await new Promise((r) => setTimeout(r, 10));
    for (const s of this.#sessions) s.destroy();
    await closed;
  }

  #session(sock: Socket): void {
    if (this.#closing || this.#sessions.size >= this.#cfg.maxConnections) {
      // no room: the channel learns BLOCK at once rather than waiting on a queue
      this.#sessions.add(sock);
      sock.on('close', () => this.#sessions.delete(sock));
      sock.on('error', () => {});
      void this.#reply(sock, new LineReader(sock, this.#cfg.ioTimeoutMs), { decision: 'BLOCK', reason: 'GW_ERR_AGI_BUSY' }, true);
      return;
    }
    this.#sessions.add(sock);
    sock.on('close', () => this.#sessions.delete(sock));
    sock.on('error', () => {});
    void this.#run(sock);
  }

  async #run(sock: Socket): Promise<void> {
    let lines = new LineReader(sock, this.#cfg.ioTimeoutMs);
    let answer: AgiDecision;
    try {
      const env = parseEnv(await lines.env());
      answer = await this.#answer(env);
    } catch (err) {
      if (!(err instanceof AgiProtocolError)) { sock.destroy(); return; } // the peer went away or timed out
      this.#log?.warn({ reason: err.message }, 'agi: malformed request: BLOCK');
      lines.stop();
      lines = new LineReader(sock, this.#cfg.ioTimeoutMs); // whatever was left unread is not a reply
      answer = { decision: 'BLOCK', reason: 'GW_ERR_AGI_BAD_REQUEST' };
    }
    await this.#reply(sock, lines, answer, false);
  }

  async #answer(env: AgiEnv): Promise<AgiDecision> {
    const { script, params } = requestOf(env);
    if (script !== 'check' && script !== '') throw new AgiProtocolError(`unknown script ${JSON.stringify(script.slice(0, 40))} (use /check)`);
    const c = this.#cfg;
    const pick = (name: string, allowed: Set<string>, dflt: string) => {
      const v = params.get(name) ?? params.get(name.toLowerCase());
      if (v === null) return dflt;
      const u = v.trim().toUpperCase();
      if (!allowed.has(u)) throw new AgiProtocolError(`${name} is not one of ${[...allowed].join(', ')}`);
      return u;
    };
    const type = pick('type', TYPES, c.type) as ConsentType;
    const messageType = pick('messageType', MESSAGE_TYPES, c.messageType) as MessageType;
    const recipientType = pick('recipientType', RECIPIENT_TYPES, c.recipientType) as RecipientType;
    const b = params.get('brand') ?? params.get('brandCode');
    const brandCode = b === null ? c.brandCode : Number(b);
    if (!Number.isInteger(brandCode) || !this.#brands.has(brandCode)) return { decision: 'BLOCK', reason: 'GW_ERR_UNKNOWN_BRAND' };
    const number = this.#number(env, params);
    if (number === null) throw new AgiProtocolError('no dialed number in the request (numberFrom)');
    const got = await withDeadline(this.#decide({ brandCode, type, messageType, recipientType, number }).catch((): AgiDecision => ({ decision: 'BLOCK', reason: 'STORE_UNAVAILABLE' })),
      c.decisionTimeoutMs, (): AgiDecision => ({ decision: 'BLOCK', reason: 'STORE_UNAVAILABLE' }));
    return got;
  }

  #number(env: AgiEnv, params: URLSearchParams): string | null {
    for (const from of this.#cfg.numberFrom) {
      const v = from === 'query' ? params.get('number') : from === 'arg' ? env.args[0] : from === 'extension' ? env.vars.get('agi_extension') : env.vars.get('agi_dnid');
      if (v === undefined || v === null || v === '' || v === 'unknown') continue;
      // an extension like `s` or `h` is not a number: look further; a query/arg that is not one is kept (decided INVALID_RECIPIENT)
      if ((from === 'extension' || from === 'dnid') && !NUMBERISH.test(v)) continue;
      return v.slice(0, 64);
    }
    return null;
  }

  async #reply(sock: Socket, lines: LineReader, a: AgiDecision, skipEnv: boolean): Promise<void> {
    this.#metrics?.session(a.decision, a.reason);
    try {
      if (skipEnv) await lines.env().catch(() => []);
      const cmds = [setVariable('IYSGATE_DECISION', a.decision), setVariable('IYSGATE_REASON', a.reason)];
      if (a.decisionId) cmds.push(setVariable('IYSGATE_DECISION_ID', a.decisionId));
      for (const cmd of cmds) {
        if (sock.destroyed || !sock.writable) return;
        sock.write(cmd);
        const r = await lines.reply();
        if (r === 'hangup' || r.code !== 200) break; // a dead channel: nothing more to tell it
      }
    } catch {
      // timed out or closed: the channel's dialplan goes on without our variables only if Asterisk lost us
    } finally {
      lines.stop();
      sock.end();
    }
  }
}

/** Line reader over one socket: bounded line length and per-wait timeout. */
class LineReader {
  readonly #sock: Socket;
  readonly #timeoutMs: number;
  #buf = '';
  #lines: string[] = [];
  #waiter: ((err?: Error) => void) | null = null;
  #ended: Error | null = null;

  constructor(sock: Socket, timeoutMs: number) {
    this.#sock = sock;
    this.#timeoutMs = timeoutMs;
    sock.setEncoding('utf8');
    sock.on('data', this.#onData);
    sock.on('close', this.#onClose);
  }

  readonly #onData = (chunk: string) => {
    this.#buf += chunk;
    let i: number;
    while ((i = this.#buf.indexOf('\n')) !== -1) {
      this.#lines.push(this.#buf.slice(0, i).replace(/\r$/, ''));
      this.#buf = this.#buf.slice(i + 1);
    }
    if (this.#buf.length > ENV_MAX_LINE_BYTES) { this.#ended = new AgiProtocolError(`a line longer than ${ENV_MAX_LINE_BYTES} bytes`); this.#buf = ''; }
    this.#wake();
  };

  readonly #onClose = () => { this.#ended ??= new Error('closed'); this.#wake(); };

  #wake(): void { const w = this.#waiter; this.#waiter = null; w?.(); }

  async #next(): Promise<string> {
    const deadline = Date.now() + this.#timeoutMs;
    for (;;) {
      const l = this.#lines.shift();
      if (l !== undefined) return l;
      if (this.#ended) throw this.#ended;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timeout');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { this.#waiter = null; resolve(); }, left);
        this.#waiter = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  /** The environment lines up to the empty line. @throws AgiProtocolError past the limits; Error on timeout/close */
  async env(): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const l = await this.#next();
      if (l === '') return out;
      out.push(l);
      if (out.length > 128) throw new AgiProtocolError('more than 128 environment lines');
    }
  }

  /** The next final command reply, or `hangup`. */
  async reply(): Promise<{ code: number; result: string | null } | 'hangup'> {
    for (;;) {
      const l = await this.#next();
      if (l === 'HANGUP') return 'hangup';
      const r = parseReply(l);
      if (r) return r;
    }
  }

  stop(): void { this.#sock.off('data', this.#onData); this.#sock.off('close', this.#onClose); }
}
