/**
 * SMTP relay benchmark (issue 13 "Speed"). Against a sink smtp-server, in the same run, each
 * server in its own process (bench/smtp-servers.ts), the client (nodemailer, pooled, 20
 * connections, 20 messages in flight) in this one:
 *   (a) direct       client → sink
 *   (b) passthrough  client → plain relay (smtp-server + nodemailer, no decision) → sink
 *   (c) gate         client → iys-gate SMTP relay (AUTH, RCPT-time decisions, headers) → sink
 *                    with listUnsubscribe add (one copy per recipient: each its own link) and keep
 * 10 kB messages, 1 and 10 recipients. Targets: (c) ≥ 0.8 × (b) messages/s; (c) p50 ≤ (b) p50 + 1 ms;
 * gate memory flat over 100,000 messages (sampled every 10,000; bounded by --mem-seconds).
 *
 *   node --import tsx bench/smtp.bench.ts [--messages 2000] [--rounds 2] [--mem-messages 100000] [--mem-seconds 240]
 * Writes bench/results/smtp.json.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';

const { values } = parseArgs({ options: {
  messages: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '2' },
  'mem-messages': { type: 'string', default: '100000' }, 'mem-seconds': { type: 'string', default: '240' },
} });
const MESSAGES = Number(values.messages);
const ROUNDS = Number(values.rounds);
const KEY = 'bench-smtp-key-0123456789abcdef';
const HERE = new URL('.', import.meta.url).pathname;

function start(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(HERE, 'smtp-servers.ts'), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d; const m = /PORT (\d+)/.exec(out); if (m) resolve({ child, port: Number(m[1]) }); });
    child.once('exit', (c) => reject(new Error(`server ${args[0]} exited ${c}`)));
  });
}
function ask<T>(child: ChildProcess, msg: object, key: string): Promise<T> {
  return new Promise((r) => { const on = (m: Record<string, unknown>) => { if (key in m) { child.off('message', on); r(m[key] as T); } }; child.on('message', on); child.send(msg); });
}

const body = Array.from({ length: 130 }, (_v, i) => `Satır ${String(i).padStart(3, '0')} ` + 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do'.slice(0, 66)).join('\r\n');
function raw(n: number): string {
  return `From: Shop <shop@brand.example>\r\nTo: list@brand.example\r\nSubject: Kampanya ${n}\r\nMessage-ID: <b${n}@brand.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${body}\r\n`;
}

async function load(port: number, rcpts: number, count: number, auth: boolean): Promise<{ mps: number; p50: number; p99: number; failed: number }> {
  const c = nodemailer.createTransport({ host: '127.0.0.1', port, pool: true, maxConnections: 20, maxMessages: Infinity, ignoreTLS: true, logger: false, ...(auth ? { auth: { user: 'bench', pass: KEY } } : {}) } as never);
  const to = Array.from({ length: rcpts }, (_v, i) => `r${i}@example.com`);
  const lat: number[] = [];
  let next = 0; let failed = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next < count) {
      const n = next++;
      const s = performance.now();
      try { await c.sendMail({ envelope: { from: 'shop@brand.example', to }, raw: raw(n) }); } catch { failed++; }
      lat.push(performance.now() - s);
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  c.close();
  lat.sort((x, y) => x - y);
  return { mps: count / secs, p50: lat[Math.floor(lat.length / 2)]!, p99: lat[Math.floor(lat.length * 0.99)]!, failed };
}

const sink = await start(['sink']);
const pass = await start(['passthrough', String(sink.port)]);
const gateAdd = await start(['gate', String(sink.port), '10', 'add']);
const gateKeep = await start(['gate', String(sink.port), '10', 'keep']);
const targets = [
  { name: 'a-direct', port: sink.port, auth: false },
  { name: 'b-passthrough', port: pass.port, auth: true },
  { name: 'c-gate (listUnsubscribe add)', port: gateAdd.port, auth: true },
  { name: 'c-gate (listUnsubscribe keep)', port: gateKeep.port, auth: true },
];
const results: Record<string, unknown>[] = [];
console.log(`SMTP relay benchmark — load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${MESSAGES} messages × ${ROUNDS} rounds, 10 kB, 20 connections`);
for (const rcpts of [1, 10]) {
  for (const tg of targets) await load(tg.port, rcpts, 200, tg.auth); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const tg of targets) {
      const res = await load(tg.port, rcpts, MESSAGES, tg.auth);
      results.push({ rcpts, round: r, target: tg.name, ...res });
      console.log(`${rcpts} rcpt  round ${r}  ${tg.name.padEnd(30)} ${res.mps.toFixed(0).padStart(6)} msg/s  p50 ${res.p50.toFixed(2)} ms  p99 ${res.p99.toFixed(2)} ms${res.failed ? `  FAILED ${res.failed}` : ''}`);
    }
  }
}
const summary: Record<string, unknown>[] = [];
for (const rcpts of [1, 10]) {
  const best = (name: string) => {
    const rs = results.filter((x) => x.rcpts === rcpts && x.target === name) as Array<{ mps: number; p50: number }>;
    return { mps: Math.max(...rs.map((x) => x.mps)), p50: Math.min(...rs.map((x) => x.p50)) };
  };
  const b = best('b-passthrough');
  for (const name of ['c-gate (listUnsubscribe add)', 'c-gate (listUnsubscribe keep)']) {
    const c = best(name);
    const s = { rcpts, target: name, ratio: c.mps / b.mps, p50AddedMs: c.p50 - b.p50, direct: best('a-direct').mps, passthrough: b.mps, gate: c.mps };
    summary.push(s);
    console.log(`${rcpts} rcpt ${name}: ${s.ratio.toFixed(2)} × passthrough msg/s (target ≥ 0.8), p50 +${s.p50AddedMs.toFixed(2)} ms (target ≤ 1 ms)`);
  }
}
// memory over many messages (gate, 1 recipient, listUnsubscribe add)
const memMessages = Number(values['mem-messages']);
const deadline = performance.now() + Number(values['mem-seconds']) * 1000;
const mem: Array<{ messages: number; rssMB: number; heapMB: number }> = [];
let sent = 0;
while (sent < memMessages && performance.now() < deadline) {
  await load(gateAdd.port, 1, 10_000, true);
  sent += 10_000;
  const m = await ask<NodeJS.MemoryUsage>(gateAdd.child, { mem: true }, 'mem');
  mem.push({ messages: sent, rssMB: m.rss / 2 ** 20, heapMB: m.heapUsed / 2 ** 20 });
  console.log(`memory after ${sent} messages: rss ${(m.rss / 2 ** 20).toFixed(1)} MB, heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MB`);
}
const sinkCount = await ask<number>(sink.child, { count: true }, 'count');
mkdirSync(join(HERE, 'results'), { recursive: true });
writeFileSync(join(HERE, 'results', 'smtp.json'), JSON.stringify({ at: new Date().toISOString(), load: loadavg(), messages: MESSAGES, rounds: ROUNDS, results, summary, mem, sinkCount }, null, 2) + '\n');
for (const s of [sink, pass, gateAdd, gateKeep]) s.child.kill();
