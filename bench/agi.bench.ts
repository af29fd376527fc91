/**
 * FastAGI pre-dial hook benchmark (issue 19 "Speed"): `--channels` (1,000) concurrent channels,
 * each a closed loop of FastAGI sessions as Asterisk makes them (connect, environment block,
 * `200 result=1` to each SET VARIABLE, server closes), against
 *   (echo) an AgiServer built from the same code (protocol, session handling, replies) whose
 *          decision is a constant ALLOW — no lookup, and
 *   (gate) the same AgiServer deciding through the gateway's one screening (screeningDecide:
 *          CheckService on the embedded store, 10,000 ARAMA consents, half ONAY, half RET),
 * alternating, in the same run, each server in its own process (the channels in this one).
 * Each channel places one call per second (staggered): `--channels` sessions/s offered. Reported
 * per mode: sessions/s, p50/p99 of the answer time (environment written → the decision's SET
 * VARIABLE received), and what the lookup adds to p50. Target: gate p50 ≤ 2 ms. The decision log is off in both (it is
 * measured by the decision-log benchmark); machine load is printed with every figure.
 *
 * Run: node --import tsx bench/agi.bench.ts [--channels 1000] [--duration 5] [--rounds 2]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fmt, writeResult } from './lib/harness.ts';

const { values } = parseArgs({ options: {
  channels: { type: 'string', default: '1000' }, duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '2' },
  serve: { type: 'string' },
} });
const N = 10_000;
const numberOf = (i: number) => '0555' + String(10_000_000 + (i % N)).slice(1);

if (values.serve) {
  // child: one server, port on IPC
  const { AgiServer, screeningDecide } = await import('../src/transports/agi/server.ts');
  const { agiSchema } = await import('../src/transports/agi/config.ts');
  const config = agiSchema.parse({ port: 0, brandCode: 600001, maxConnections: 10_000 });
  let decide;
  if (values.serve === 'gate') {
    const { MemoryStore } = await import('../src/mirror/memory-store.ts');
    const { CheckService } = await import('../src/check/check-service.ts');
    const store = new MemoryStore({ dataDir: null });
    await store.open();
    await store.apply(Array.from({ length: N }, (_x, i) => ({
      brandCode: 600001, recipientType: 'BIREYSEL' as const, type: 'ARAMA' as const, recipient: '+90' + numberOf(i).slice(1), status: (i % 2 === 0 ? 'ONAY' : 'RET') as 'ONAY' | 'RET',
      source: 'HS_CAGRI_MERKEZI' as const, consentDate: '2026-01-05 10:00:00', creationDate: '2026-01-05 10:00:05', transactionId: null, noncanonical: false,
    })));
    const checks = new CheckService({ store, policy: { tacirWithoutRecord: 'allow' }, mirrorMaxAgeMs: 0 });
    decide = screeningDecide(checks, 'treat-as-commercial');
  } else {
    decide = async () => ({ decision: 'ALLOW' as const, reason: 'CONSENT_ONAY' });
  }
  const server = new AgiServer({ config, decide });
  const port = await server.listen();
  process.send!({ port });
  process.on('message', (m: { stop?: boolean }) => { if (m.stop) void server.close().then(() => process.exit(0)); });
} else {
  const CHANNELS = Number(values.channels); const DURATION_MS = Number(values.duration) * 1000; const ROUNDS = Number(values.rounds);
  const start = (mode: string) => new Promise<{ proc: ChildProcess; port: number }>((resolve, reject) => {
    const proc = fork(new URL(import.meta.url).pathname, ['--serve', mode], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    proc.once('exit', (c) => reject(new Error(`${mode} exited ${c}`)));
    proc.on('message', (m: { port?: number }) => { if (m.port) resolve({ proc, port: m.port }); });
  });
  const envBlock = (port: number, i: number) => `agi_network: yes\nagi_network_script: check?brand=600001&type=ARAMA\nagi_request: agi://127.0.0.1:${port}/check?brand=600001&type=ARAMA\n`
    + `agi_channel: PJSIP/1001-${i}\nagi_language: tr\nagi_type: PJSIP\nagi_uniqueid: 1700000000.${i}\nagi_version: 20.5.0\nagi_callerid: 1001\n`
    + `agi_dnid: ${numberOf(i)}\nagi_context: from-internal\nagi_extension: ${numberOf(i)}\nagi_priority: 1\nagi_enhanced: 0.0\n\n`;
  /**
   * One session; resolves with the answer time in ms (environment written → the decision's SET
   * VARIABLE received: what the dialplan waits for before Dial()) and the decision.
   */
  const session = (port: number, i: number) => new Promise<{ ms: number; decision: string }>((resolve, reject) => {
    let t0 = 0; let ms = -1;
    const s = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    let buf = ''; let decision = '';
    s.setEncoding('utf8');
    s.on('connect', () => { t0 = performance.now(); s.write(envBlock(port, i)); });
    s.on('data', (d: string) => {
      buf += d;
      let k: number;
      while ((k = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, k); buf = buf.slice(k + 1);
        if (line.startsWith('SET VARIABLE IYSGATE_DECISION ')) { decision = line.slice(30).replace(/"/g, ''); ms = performance.now() - t0; }
        s.write('200 result=1\n');
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve({ ms, decision }));
  });
  // each of the CHANNELS channels places one call per second, staggered: CHANNELS sessions/s offered
  const drive = async (port: number) => {
    const times: number[] = []; const decisions = new Map<string, number>();
    const t0 = performance.now();
    let i = 0;
    await Promise.all(Array.from({ length: CHANNELS }, async (_x, ch) => {
      await new Promise((r) => setTimeout(r, (ch / CHANNELS) * 1000));
      for (let k = 0; ; k++) {
        const due = t0 + (ch / CHANNELS) * 1000 + k * 1000;
        if (due > t0 + DURATION_MS) break;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const r = await session(port, i++);
        times.push(r.ms); decisions.set(r.decision, (decisions.get(r.decision) ?? 0) + 1);
      }
    }));
    times.sort((a, b) => a - b);
    return { sessions: times.length, perS: times.length / ((performance.now() - t0) / 1000), p50: times[Math.floor(times.length / 2)]!, p99: times[Math.floor(times.length * 0.99)]!, decisions: Object.fromEntries(decisions), load: loadavg()[0]! };
  };
  const runs: Record<string, Array<Awaited<ReturnType<typeof drive>>>> = { echo: [], gate: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of ['echo', 'gate'] as const) {
      const srv = await start(mode);
      await drive(srv.port).catch(() => null); // warm-up (JIT, sockets), not counted
      const got = await drive(srv.port);
      runs[mode]!.push(got);
      console.log(`${mode} round ${r + 1}: ${fmt(got.perS)} sessions/s, p50 ${got.p50.toFixed(2)} ms, p99 ${got.p99.toFixed(2)} ms, decisions ${JSON.stringify(got.decisions)}, load ${got.load.toFixed(1)}`);
      srv.proc.send({ stop: true });
      await new Promise((r2) => srv.proc.once('exit', r2));
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summary = {
    channels: CHANNELS, durationS: DURATION_MS / 1000,
    echo: { perS: med(runs.echo!.map((x) => x.perS)), p50: med(runs.echo!.map((x) => x.p50)), p99: med(runs.echo!.map((x) => x.p99)) },
    gate: { perS: med(runs.gate!.map((x) => x.perS)), p50: med(runs.gate!.map((x) => x.p50)), p99: med(runs.gate!.map((x) => x.p99)) },
  };
  const added = summary.gate.p50 - summary.echo.p50;
  console.log(`\nAGI at ${CHANNELS} channels: gate p50 ${summary.gate.p50.toFixed(2)} ms (target ≤ 2 ms), echo p50 ${summary.echo.p50.toFixed(2)} ms, lookup adds ${added.toFixed(2)} ms; sessions/s gate/echo ${(summary.gate.perS / summary.echo.perS).toFixed(2)}×`);
  writeResult('agi', { summary, addedP50Ms: added, runs });
}
