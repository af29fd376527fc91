/**
 * Test harness of the SMPP front: a stub SMSC (the `smpp` package's own server on 127.0.0.1:0)
 * that records every PDU with its raw bytes, a gate (SmppFront on a fresh in-memory store) bound
 * to it, and ESMEs built with the same package. Teardown is registered at creation. Waits are
 * event-driven (`until` re-checks on a 2 ms timer, bounded), never fixed sleeps.
 */
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import smpp, { type PDU, type Session } from 'smpp';
import { CheckService } from '../../src/check/check-service.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { GatewayMetrics } from '../../src/plugins/metrics.ts';
import { smppSchema, type SmppConfig } from '../../src/transports/smpp/config.ts';
import { SmppFront } from '../../src/transports/smpp/front.ts';
import { SmppMetrics } from '../../src/transports/smpp/metrics.ts';
import type { MobileOriginated } from '../../src/transports/smpp/mobile-originated.ts';

type Teardown = { teardown(fn: () => unknown): void };

export const BRAND = 610001;

// Raw bytes of every PDU node-smpp reads (the stub's and the ESMEs' sessions): kept on the PDU.
const RAW = Symbol('raw');
const P = smpp.PDU as unknown as { fromStream(stream: { read(n: number): Buffer | null }, len: number): PDU | false };
const origFromStream = P.fromStream;
if (!(origFromStream as unknown as { wrapped?: boolean }).wrapped) {
  const wrapped = function (stream: { read(n: number): Buffer | null }, len: number): PDU | false {
    const body = stream.read(len - 4);
    if (!body) return false;
    const head = Buffer.alloc(4); head.writeUInt32BE(len, 0);
    const raw = Buffer.concat([head, body]);
    const pdu = new smpp.PDU(raw);
    Object.defineProperty(pdu, RAW, { value: raw, enumerable: false });
    return pdu;
  };
  (wrapped as unknown as { wrapped: boolean }).wrapped = true;
  P.fromStream = wrapped;
}
/** The bytes node-smpp read for this PDU. */
export const rawOf = (pdu: PDU): Buffer => (pdu as unknown as Record<symbol, Buffer>)[RAW]!;
/** A copy with the sequence number zeroed (the gate renumbers PDUs per link). */
export const withoutSeq = (b: Buffer): Buffer => { const c = Buffer.from(b); c.writeUInt32BE(0, 12); return c; };

/** Polls `cond` every 2 ms until true; fails after `ms`. */
export async function until(cond: () => boolean, ms = 5_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** What the stub answers a submit with: a status (0 = ok with an id), or `silent` (never answers). */
export type StubReply = { status: number } | 'silent';

/** A stub SMSC: records binds and submits; `reply` decides each answer. */
export async function startStubSmsc(t: Teardown, opts: { password?: string; answerEnquireLink?: boolean } = {}) {
  const submits: PDU[] = [];
  /** Submits answered `silent`, with their session: `answerHeld()` answers them. */
  const held: { session: Session; pdu: PDU }[] = [];
  const sessions: Session[] = [];
  let n = 0;
  const state = { reply: ((): StubReply => ({ status: 0 })) as (p: PDU) => StubReply, binds: 0 };
  const server = smpp.createServer((session: Session) => {
    sessions.push(session);
    session.on('error', () => {});
    const bind = (pdu: PDU) => {
      const ok = opts.password === undefined || pdu.password === opts.password;
      if (ok) state.binds++;
      session.send(pdu.response(ok ? { system_id: 'stub' } : { command_status: smpp.errors.ESME_RINVPASWD! }));
    };
    session.on('bind_transceiver', bind);
    session.on('bind_transmitter', bind);
    session.on('enquire_link', (pdu: PDU) => { if (opts.answerEnquireLink !== false) session.send(pdu.response()); });
    session.on('unbind', (pdu: PDU) => { session.send(pdu.response()); session.close(); });
    for (const cmd of ['submit_sm', 'data_sm', 'submit_multi']) {
      session.on(cmd, (pdu: PDU) => {
        submits.push(pdu);
        const r = state.reply(pdu);
        if (r === 'silent') { held.push({ session, pdu }); return; }
        if (r.status !== 0) { session.send(pdu.response({ command_status: r.status })); return; }
        session.send(pdu.response({ message_id: `stub-${++n}` }));
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const close = () => new Promise<void>((resolve) => { for (const s of sessions) s.destroy(); server.close(() => resolve()); });
  t.teardown(close);
  /** Sends a deliver_sm on the stub's most recent bound session; resolves with the gate's deliver_sm_resp status. */
  const deliver = (fields: Record<string, unknown>) => new Promise<number>((resolve) => {
    const s = sessions.filter((x) => !x.socket.destroyed).at(-1)!;
    s.send(new smpp.PDU('deliver_sm', fields), (resp: PDU) => resolve(resp.command_status));
  });
  const answerHeld = () => { for (const h of held.splice(0)) h.session.send(h.pdu.response({ message_id: `stub-${++n}` })); };
  return { port, url: `smpp://127.0.0.1:${port}`, submits, sessions, state, server, close, deliver, held, answerHeld };
}

export interface SeedRow { recipient: string; status: 'ONAY' | 'RET'; recipientType?: 'BIREYSEL' | 'TACIR' }

/** A gate bound to `upstreamUrl`; `binds` default: esme1/secret1 (TICARI) and info1/secret2 (BILGILENDIRME). */
export async function startGate(t: Teardown, upstreamUrl: string, overrides: Partial<Record<keyof SmppConfig, unknown>> & {
  upstream?: Record<string, unknown>; logger?: pino.Logger; onMobileOriginated?: (mo: MobileOriginated) => void | Promise<void>;
} = {}) {
  const { upstream, logger, onMobileOriginated, ...rest } = overrides;
  const config = smppSchema.parse({
    port: 0,
    binds: [
      { systemId: 'esme1', password: 'secret1', brandCode: BRAND, upstream: 'stub' },
      { systemId: 'info1', password: 'secret2', brandCode: BRAND, messageType: 'BILGILENDIRME', upstream: 'stub' },
    ],
    upstreams: [{ name: 'stub', url: upstreamUrl, systemId: 'gate', password: 'pw', responseTimeoutMs: 2_000, reconnectMinMs: 20, reconnectMaxMs: 200, ...upstream }],
    ...rest,
  });
  const store = new MemoryStore({ dataDir: null });
  await store.open();
  const checks = new CheckService({ store, policy: { tacirWithoutRecord: 'allow', tacirOverBireyselRet: 'block' }, mirrorMaxAgeMs: 0 });
  const logs: string[] = [];
  const log = logger ?? pino({ level: 'info' }, new Writable({ write(c, _e, cb) { logs.push(String(c)); cb(); } }));
  const mos: MobileOriginated[] = [];
  const registry = new GatewayMetrics({ defaultMetrics: false });
  const front = new SmppFront({
    config, checks, policy: 'treat-as-commercial', log,
    metrics: (f) => new SmppMetrics(registry.registry, { sessions: () => f.boundSessions(), upstreams: () => f.pools.values() }),
    onMobileOriginated: (mo) => { mos.push(mo); return onMobileOriginated?.(mo); },
  });
  const port = await front.listen();
  t.teardown(async () => { await front.close(); await store.close(); });
  const seed = async (rows: SeedRow[]) => {
    await store.apply(rows.map((r) => ({
      brandCode: BRAND, recipientType: r.recipientType ?? 'BIREYSEL', type: 'MESAJ' as const, recipient: r.recipient,
      status: r.status, source: 'HS_WEB' as const, consentDate: '2026-01-05 10:00:00', creationDate: '2026-01-05 10:00:05', transactionId: null, retailerAccess: null,
    })));
  };
  return { front, port, config, store, checks, logs, mos, seed, registry: registry.registry, upstreamBound: () => front.pools.get('stub')!.boundCount > 0 };
}

/** An ESME (node-smpp client) connected to `port`; `sent` holds every byte buffer it wrote. */
export async function connectEsme(t: Teardown, port: number) {
  const session = smpp.connect({ url: `smpp://127.0.0.1:${port}` });
  session.on('error', () => {});
  const sent: Buffer[] = [];
  const write = session.socket.write.bind(session.socket) as (b: Buffer, cb?: () => void) => boolean;
  (session.socket as unknown as { write: typeof write }).write = (b: Buffer, cb?: () => void) => { sent.push(Buffer.from(b)); return write(b, cb); };
  await new Promise<void>((resolve, reject) => { session.once('connect', () => resolve()); session.once('error', reject); });
  t.teardown(() => { session.destroy(); });
  const call = (command: string, fields: Record<string, unknown> = {}) => new Promise<PDU>((resolve) => {
    (session[command] as (f: Record<string, unknown>, cb: (p: PDU) => void) => void).call(session, fields, resolve);
  });
  const closed = new Promise<void>((resolve) => session.socket.once('close', () => resolve()));
  return { session, sent, call, closed };
}

/** Binds an ESME as `mode` and expects success. */
export async function boundEsme(t: Teardown, port: number, systemId = 'esme1', password = 'secret1', mode = 'bind_transceiver') {
  const e = await connectEsme(t, port);
  const r = await e.call(mode, { system_id: systemId, password });
  if (r.command_status !== 0) throw new Error(`bind failed: ${r.command_status}`);
  return e;
}
