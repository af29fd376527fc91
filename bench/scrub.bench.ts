/**
 * Scrub benchmark: the `POST /v1/scrub` part of bench/proxy.bench.ts alone (same gateway process,
 * bench/proxy-servers.ts `--mode gateway` holding 1,000,000 ONAY consents, same list generator),
 * plus a Turkish CSV list (`+90…,Şükrü Öztürk N,İstanbul Çağlayan`, the C39 line shape) and the
 * same list in windows-1254 with `;` and CRLF (C40), each streamed over HTTP in 10,000-line
 * chunks. Prints lines/s per list and round; half the numbers consent, half do not.
 *
 * Run: `node --import tsx bench/scrub.bench.ts [--lines 1000000] [--rounds 3] [--lists plain,csv,cp1254]`
 * (the baseline of a change: the same command in a checkout of the earlier commit, interleaved).
 */
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { HOST, cpuSeconds, fmt, freePort, startChild, stopChild } from './lib/harness.ts';
import { BENCH_KEY, benchNo } from './proxy-shared.ts';

const { values } = parseArgs({ options: { lines: { type: 'string' }, rounds: { type: 'string' }, lists: { type: 'string' } } });
const LINES = Number(values.lines ?? 1_000_000);
const ROUNDS = Number(values.rounds ?? 3);
const LISTS = (values.lists ?? 'plain,csv,cp1254').split(',');
const script = 'bench/proxy-servers.ts';

const [sp, gp] = [await freePort(), await freePort()];
const stub = await startChild({ name: 'stub', script, args: ['--mode', 'stub', '--port', String(sp)], port: sp, readyPath: '/healthz' });
const gw = await startChild({ name: 'iys-gate', script, args: ['--mode', 'gateway', '--port', String(gp), '--upstream', `http://${HOST}:${sp}`, '--consents', '1000000'], port: gp, readyPath: '/healthz', timeoutMs: 120_000 });

/** Windows-1254 bytes of the few non-ASCII letters the CSV lines use. */
const CP1254: Record<string, number> = { Ş: 0xde, ü: 0xfc, Ö: 0xd6, z: 0x7a, İ: 0xdd, Ç: 0xc7, ğ: 0xf0, ı: 0xfd, ş: 0xfe, ç: 0xe7, ö: 0xf6 };
const to1254 = (s: string) => Buffer.from([...s].map((c) => CP1254[c] ?? c.charCodeAt(0)));

const shapes = {
  plain: { type: 'text/plain', line: (n: string) => `0${n}\n`, encode: (s: string) => Buffer.from(s) },
  csv: { type: 'text/csv', line: (n: string) => `+90${n},Şükrü Öztürk N,İstanbul Çağlayan\n`, encode: (s: string) => Buffer.from(s) },
  cp1254: { type: 'text/csv; charset=windows-1254', line: (n: string) => `0${n};Şükrü Öztürk;İstanbul Çağlayan\r\n`, encode: to1254 },
} as const;

async function scrubOnce(kind: keyof typeof shapes, lines: number): Promise<{ secs: number; outBytes: number; cpu: number }> {
  const shape = shapes[kind];
  async function* list() {
    for (let i = 0; i < lines; i += 10_000) {
      let s = '';
      for (let j = i; j < Math.min(lines, i + 10_000); j++) s += shape.line(benchNo(j % 2 === 0 ? j : 5_000_000 + j));
      yield shape.encode(s);
    }
  }
  const cpu0 = cpuSeconds(gw.pid);
  const t0 = performance.now();
  const res = await request(`http://${HOST}:${gp}/v1/scrub?brandCode=7&type=MESAJ`, { method: 'POST', headers: { 'content-type': shape.type, authorization: `Bearer ${BENCH_KEY}` }, body: Readable.from(list()) });
  let outBytes = 0;
  for await (const chunk of res.body) outBytes += (chunk as Buffer).length;
  if (res.statusCode !== 200) throw new Error(`scrub ${kind}: HTTP ${res.statusCode}`);
  return { secs: (performance.now() - t0) / 1000, outBytes, cpu: cpuSeconds(gw.pid) - cpu0 };
}

for (const k of LISTS) await scrubOnce(k as keyof typeof shapes, 200_000); // warm-up (JIT)
for (let r = 1; r <= ROUNDS; r++) {
  for (const k of LISTS) {
    const m = await scrubOnce(k as keyof typeof shapes, LINES);
    console.log(`scrub ${k} #${r}: ${fmt(LINES)} lines in ${m.secs.toFixed(2)} s = ${fmt(LINES / m.secs)} lines/s; gateway CPU ${m.cpu.toFixed(2)} s; ${fmt(m.outBytes)} bytes back`);
  }
}
for (const ch of [gw, stub]) await stopChild(ch);
