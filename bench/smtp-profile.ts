/**
 * Where the SMTP relay's time goes (issue 13 "Speed"): a sink and iys-gate's relay
 * (bench/smtp-servers.ts) with the relay under `--cpu-prof`, 3,000 10 kB messages from 20 pooled
 * nodemailer connections, then the relay exits and writes its V8 CPU profile(s) (main thread and
 * the decision-log worker) to `--cpu-prof-dir`. Open them in Chrome DevTools, or sum self/inclusive
 * time per function. Traffic only to 127.0.0.1; bounded by the message count.
 *
 *   node --import tsx bench/smtp-profile.ts [keep|add|off] [recipients=1] [dir=/tmp/iysgate-smtp-prof]
 */
import { fork } from 'node:child_process';
import nodemailer from 'nodemailer';
const HERE = new URL('.', import.meta.url).pathname;
function start(args: string[], execArgv: string[] = []) {
  const child = fork(HERE + 'smtp-servers.ts', args, { execArgv: ['--import', 'tsx', ...execArgv], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise<{ child: typeof child; port: number }>((resolve) => { let out = ''; child.stdout!.on('data', (d: Buffer) => { out += d; const m = /PORT (\d+)/.exec(out); if (m) resolve({ child, port: Number(m[1]) }); }); });
}
const sink = await start(['sink']);
const gate = await start(['gate', String(sink.port), '10', process.argv[2] ?? 'keep'], ['--cpu-prof', `--cpu-prof-dir=${process.argv[4] ?? '/tmp/iysgate-smtp-prof'}`]);
const rc = Number(process.argv[3] ?? 1);
const c = nodemailer.createTransport({ host: '127.0.0.1', port: gate.port, pool: true, maxConnections: 20, maxMessages: Infinity, ignoreTLS: true, logger: false, auth: { user: 'bench', pass: 'bench-smtp-key-0123456789abcdef' } } as never);
const body = 'x'.repeat(70) + '\r\n';
const raw = `From: a@brand.example\r\nSubject: K\r\n\r\n${body.repeat(140)}`;
const to = Array.from({ length: rc }, (_v, i) => `r${i}@example.com`);
let next = 0; const N = 3000; const t0 = performance.now();
await Promise.all(Array.from({ length: 20 }, async () => { while (next < N) { next++; await c.sendMail({ envelope: { from: 'a@brand.example', to }, raw }); } }));
console.log('msg/s', (N / ((performance.now() - t0) / 1000)).toFixed(0));
c.close();
gate.child.send({ exit: true });
await new Promise((r) => gate.child.once('exit', r));
sink.child.kill();
