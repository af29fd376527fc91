/**
 * Child process of bench/smtp.bench.ts: one SMTP server per process, on 127.0.0.1:0.
 *   sink         smtp-server that reads and discards each message (the "real MTA")
 *   passthrough  plain relay built from the same two libraries, no decision: smtp-server →
 *                nodemailer pooled SMTP transport (raw stream) → sink; AUTH accepted as is
 *   gate         iys-gate (buildApp + its SMTP relay, memory store) → sink
 * Prints `PORT <n>` on stdout; answers `{mem: true}` IPC messages with process.memoryUsage().
 * Args: mode, sink port (relays), recipients to seed ONAY (gate), listUnsubscribe (gate).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';

const [mode, sinkPortArg, seedArg, unsubArg] = process.argv.slice(2);
const sinkPort = Number(sinkPortArg);
export const BENCH_KEY = 'bench-smtp-key-0123456789abcdef';

async function main() {
  let port = 0;
  if (mode === 'sink') {
    let n = 0;
    const s = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false, disableReverseLookup: true,
      onData(stream, _session, cb) { stream.on('data', () => {}); stream.on('end', () => { n++; cb(null, 'ok'); }); },
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    port = (s.server.address() as { port: number }).port;
    process.on('message', (m: { count?: boolean }) => { if (m.count) process.send!({ count: n }); });
  } else if (mode === 'passthrough') {
    const up = nodemailer.createTransport({ host: '127.0.0.1', port: sinkPort, pool: true, maxConnections: 20, maxMessages: 1000, ignoreTLS: true, logger: false });
    const s = new SMTPServer({
      allowInsecureAuth: true, hideSTARTTLS: true, logger: false, disableReverseLookup: true, authMethods: ['PLAIN', 'LOGIN'],
      onAuth(_a, _s, cb) { cb(null, { user: 'x' }); },
      onData(stream, session, cb) {
        up.sendMail({ envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((a) => a.address) }, raw: stream } as never,
          (err: Error | null) => (err ? cb(Object.assign(new Error('upstream'), { responseCode: 451 })) : cb(null, 'ok')));
      },
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    port = (s.server.address() as { port: number }).port;
  } else {
    const { buildApp } = await import('../src/app.ts');
    const { loadConfig } = await import('../src/config/load.ts');
    const { MemoryStore } = await import('../src/mirror/memory-store.ts');
    const { KeyRing } = await import('../src/plugins/api-keys.ts');
    const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-smtp-bench-'));
    const config = loadConfig({ env: {}, overrides: {
      dataDir, logLevel: 'warn',
      apiKeys: [{ name: 'bench', key: BENCH_KEY, brands: [700], scopes: ['smtp'], smtp: { brandCode: 700 } }],
      smtp: {
        port: 0, maxConnections: 200, listUnsubscribe: (unsubArg ?? 'add') as 'add',
        upstream: { host: '127.0.0.1', port: sinkPort, maxConnections: 20 },
        unsubscribe: { baseUrl: 'https://gate.example.com', secret: 'bench-unsubscribe-secret-0123456789abcdef' },
      },
    } as never });
    const store = new MemoryStore({ dataDir: join(dataDir, 'mirror') });
    await store.open();
    const n = Number(seedArg ?? 10);
    await store.apply(Array.from({ length: n }, (_v, i) => ({
      brandCode: 700, recipientType: 'BIREYSEL' as const, type: 'EPOSTA' as const, recipient: `r${i}@example.com`, status: 'ONAY' as const,
      source: 'HS_WEB' as const, consentDate: '2025-01-02 10:00:00', creationDate: '2025-01-02 10:00:05', transactionId: `t${i}`, noncanonical: false,
    })));
    const app = await buildApp(config, { store, keys: new KeyRing(config), logger: false });
    port = (await app.smtpRelay!.listen()).port;
  }
  process.on('message', (m: { mem?: boolean; exit?: boolean }) => { if (m.mem) process.send!({ mem: process.memoryUsage() }); if (m.exit) process.exit(0); });
  process.stdout.write(`PORT ${port}\n`);
}
void main();
