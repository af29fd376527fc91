import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { GatewayConfigInput } from '../../../src/config/schema.ts';
import type { Movement } from '../../../src/domain/types.ts';
import { makeGateway } from '../../helpers/gateway.ts';

export const BRAND = 700;
export const SMTP_KEY = 'smtp-key-0123456789abcdef';
export const INFO_KEY = 'smtp-info-key-0123456789abcdef';
export const UNSUB_SECRET = 'unsubscribe-secret-0123456789abcdef0123';

/** One message the sink took (answered 250 while the session was still open). */
export interface SinkMessage { from: string; to: string[]; raw: Buffer }

/**
 * An upstream MTA for tests: smtp-server on 127.0.0.1:0 that keeps every message it answered
 * 250 to. `behave` may delay or fail a message (4xx/5xx); a message whose session closed before
 * the answer is not kept (it was never acknowledged).
 */
export async function startSink(
  t: { teardown(fn: () => unknown): void },
  behave: (n: number, envelope: { from: string; to: string[] }) => Promise<{ code: number; text: string } | null> = async () => null,
  /** Answer to one RCPT TO (null = accept): an upstream refusing some recipients of a transaction. */
  rcpt: (address: string, from: string) => { code: number; text: string } | null = () => null,
) {
  const messages: SinkMessage[] = [];
  const closed = new Set<string>();
  const events = new EventEmitter();
  let n = 0;
  const opts: SMTPServerOptions = {
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false, disableReverseLookup: true,
    onClose: (session) => { closed.add(session.id); events.emit('close', session.id); },
    onMailFrom: (_a, _s, cb) => { events.emit('mail'); cb(); },
    onRcptTo: (a, session, cb) => {
      const r = rcpt(a.address, session.envelope.mailFrom ? session.envelope.mailFrom.address : '');
      if (!r) return cb();
      const e = new Error(r.text) as Error & { responseCode: number }; e.responseCode = r.code; cb(e);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const envelope = { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((a) => a.address) };
        void behave(++n, envelope).then((fail) => {
          if (fail) { const e = new Error(fail.text) as Error & { responseCode: number }; e.responseCode = fail.code; return cb(e); }
          if (closed.has(session.id)) return cb(new Error('gone'));
          messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((a) => a.address), raw: Buffer.concat(chunks) });
          events.emit('message');
          cb(null, 'sink queued');
        });
      });
    },
  };
  const server = new SMTPServer(opts);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { port, messages, server, events };
}

/** Gateway with the SMTP relay (port 0) in front of an upstream on `upstreamPort`, mirror seeded. */
export async function makeSmtpGateway(t: Parameters<typeof makeGateway>[0], upstreamPort: number, smtp: Record<string, unknown> = {}, extra: GatewayConfigInput = {}) {
  const gw = await makeGateway(t, {
    apiKeys: [
      { name: 'mailer', key: SMTP_KEY, brands: [BRAND], scopes: ['smtp'], smtp: { brandCode: BRAND } },
      { name: 'info-mailer', key: INFO_KEY, brands: [BRAND, 701], scopes: ['smtp'], smtp: { brandCode: BRAND, messageType: 'BILGILENDIRME' } },
    ],
    smtp: {
      port: 0, upstream: { host: '127.0.0.1', port: upstreamPort, timeoutMs: 2000, maxConnections: 4 },
      unsubscribe: { baseUrl: 'https://gate.example.com', secret: UNSUB_SECRET },
      ...smtp,
    } as never,
    ...extra,
  });
  await gw.store.apply([
    mv('onay@example.com', 'ONAY'), mv('ret@example.com', 'RET'),
  ]);
  const addr = await gw.app.smtpRelay!.listen();
  return { ...gw, smtpPort: addr.port };
}

export function mv(recipient: string, status: 'ONAY' | 'RET', brandCode = BRAND): Movement {
  return { brandCode, recipientType: 'BIREYSEL', type: 'EPOSTA', recipient, status, source: 'HS_WEB', consentDate: '2025-01-02 10:00:00', creationDate: '2025-01-02 10:00:05', transactionId: `tx-${recipient}`, noncanonical: false };
}

/** A nodemailer client (unchanged, as a sender's app uses it) for the relay. */
export function client(port: number, user = 'mailer', pass = SMTP_KEY) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, auth: { user, pass }, logger: false });
}

/**
 * A raw SMTP client for bad-input tests: writes bytes as given, reads whole replies
 * (multi-line `250-…` joined) in order.
 */
export async function rawSmtp(port: number) {
  const { connect } = await import('node:net');
  const sock = connect(port, '127.0.0.1');
  const replies: string[] = [];
  const waiters: Array<(r: string) => void> = [];
  let buf = '';
  let cur: string[] = [];
  let closed = false;
  const closedP = new Promise<void>((r) => sock.once('close', () => { closed = true; r(); }));
  sock.on('error', () => { /* the test asserts on replies and close */ });
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
      const line = buf.slice(0, i); buf = buf.slice(i + 2);
      cur.push(line);
      if (line[3] !== '-') { const r = cur.join('\n'); cur = []; const w = waiters.shift(); if (w) w(r); else replies.push(r); }
    }
  });
  const reply = () => new Promise<string>((resolve, reject) => {
    const r = replies.shift();
    if (r !== undefined) return resolve(r);
    if (closed) return reject(new Error('connection closed'));
    waiters.push(resolve);
    void closedP.then(() => reject(new Error('connection closed')));
  });
  const write = (s: string | Buffer) => new Promise<void>((r) => sock.write(s, () => r()));
  const cmd = async (s: string) => { await write(s + '\r\n'); return reply(); };
  const login = async (user = 'mailer', pass = SMTP_KEY) => {
    await reply(); // greeting
    await cmd('EHLO test.example');
    return cmd('AUTH PLAIN ' + Buffer.from(`\u0000${user}\u0000${pass}`).toString('base64'));
  };
  return { sock, reply, write, cmd, login, closed: closedP, end: () => sock.destroy() };
}
