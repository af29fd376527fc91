/**
 * Child processes of bench/smpp.bench.ts (IPC with the parent):
 *   stub            a stub SMSC: the `smpp` package's server, answers every submit_sm with an id
 *   gate <stubUrl> [on|off]  iys-gate's SMPP front on a memory store seeded with the bench
 *                   recipients (all ONAY), bound to the stub with 4 binds × window 50, with the
 *                   decision log (default on, as the product runs) or without it
 * Each sends `{ port }` once listening and answers `{ mem: true }` with process.memoryUsage()
 * (after a GC when run with --expose-gc).
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import smpp, { type PDU, type Session } from 'smpp';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckService } from '../src/check/check-service.ts';
import { createDecisionLog } from '../src/check/decision-log/open-log.ts';
import { loadConfig } from '../src/config/load.ts';
import { MemoryStore } from '../src/mirror/memory-store.ts';
import { smppSchema } from '../src/transports/smpp/config.ts';
import { SmppFront } from '../src/transports/smpp/front.ts';

export const BENCH_BRAND = 620001;
export const RECIPIENTS = 10_000;
/** The i-th bench recipient, international digits (TON 1). */
export const recipient = (i: number) => `90532${String(1_000_000 + (i % RECIPIENTS)).slice(1)}0`.slice(0, 12);

const send = (m: unknown) => process.send?.(m);
process.on('message', (m: { mem?: boolean }) => {
  if (m.mem) { (globalThis as { gc?: () => void }).gc?.(); send({ mem: process.memoryUsage() }); }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0)); // exit normally: a --cpu-prof profile is written

const role = process.argv[2];
if (role === 'stub') {
  let n = 0;
  const server = smpp.createServer((s: Session) => {
    s.on('error', () => {});
    const bind = (p: PDU) => s.send(p.response({ system_id: 'stub' }));
    s.on('bind_transceiver', bind); s.on('bind_transmitter', bind);
    s.on('enquire_link', (p: PDU) => s.send(p.response()));
    s.on('unbind', (p: PDU) => { s.send(p.response()); s.close(); });
    s.on('submit_sm', (p: PDU) => s.send(p.response({ message_id: `m${++n}` })));
  });
  server.listen(0, '127.0.0.1', () => send({ port: (server.address() as AddressInfo).port }));
} else if (role === 'gate') {
  const store = new MemoryStore({ dataDir: null });
  await store.open();
  const rows = [];
  for (let i = 0; i < RECIPIENTS; i++) {
    rows.push({ brandCode: BENCH_BRAND, recipientType: 'BIREYSEL' as const, type: 'MESAJ' as const, recipient: '+' + recipient(i), status: 'ONAY' as const, source: 'HS_WEB' as const, consentDate: '2026-01-05 10:00:00', creationDate: '2026-01-05 10:00:05', transactionId: null, retailerAccess: null });
  }
  await store.apply(rows);
  // the decision log as the product runs it by default (every decision hash-chained on disk, a
  // forwarding door waits for its group commit); `gate <url> off` leaves it out
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-smpp-bench-'));
  process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const decisions = process.argv[4] === 'off' ? null : createDecisionLog(loadConfig({ env: {}, overrides: { dataDir } }), (m) => process.stderr.write(m + '\n'));
  const checks = new CheckService({ store, decisions, policy: { tacirWithoutRecord: 'allow', tacirOverBireyselRet: 'block' }, mirrorMaxAgeMs: 0 });
  const config = smppSchema.parse({
    port: 0,
    binds: [{ systemId: 'bench', password: 'bench', brandCode: BENCH_BRAND, upstream: 'stub', maxWindow: 100 }],
    upstreams: [{ name: 'stub', url: process.argv[3], systemId: 'gate', password: 'pw', binds: 4, window: 50 }],
  });
  const front = new SmppFront({ config, checks, policy: 'treat-as-commercial', log: pino({ level: 'warn' }) });
  const port = await front.listen();
  const t0 = Date.now();
  while (front.pools.get('stub')!.boundCount < 4 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 10));
  send({ port });
}
