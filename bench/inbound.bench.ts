/**
 * Issue 14 benchmarks, one run:
 * 1. the reply reader in process (src/domain/reply-reader.ts) on the labelled corpus
 *    (test/fixtures/reply-corpus.ts, 164 replies of every shape): replies per CPU-second;
 * 2. the Verimor push receiver end to end on the embedded store (LMDB, the default): a gateway
 *    listening on 127.0.0.1, pushes of `--batch` replies (Verimor's JSON array) from `--concurrency`
 *    keep-alive clients; every reply answered 2xx is durable (outbox + mirror + handled mark, each
 *    group-committed: fdatasync shared by the replies in flight). Half the replies are refusals
 *    (`RET`, `iptal lütfen`), a quarter free text kept for review, a quarter order questions.
 *    Baseline in the same run: the same pushes to `POST /v1/inbound` with the reader answering
 *    `none` for everything (de-duplication mark only, one fsync), so the figure of the refusal
 *    path is read against the machine's fsync cost at that moment.
 *
 * Run: `node --import tsx bench/inbound.bench.ts [--replies 20000] [--batch 20] [--concurrency 16]`
 * (≈ 30 s). Results: bench/results/inbound.json; figures in bench/README.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, Agent } from 'undici';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { compileReplyReader } from '../src/domain/reply-reader.ts';
import { LmdbStore } from '../src/mirror/lmdb-store.ts';
import { KeyRing } from '../src/plugins/api-keys.ts';
import { REPLY_BRANDS, REPLY_CORPUS } from '../test/fixtures/reply-corpus.ts';
import { writeResult } from './lib/harness.ts';

const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const REPLIES = arg('replies', 20_000);
const BATCH = arg('batch', 20);
const CONC = arg('concurrency', 16);
const cpuNs = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };

// 1. reader
const read = compileReplyReader({ brandNames: REPLY_BRANDS });
const texts = REPLY_CORPUS.map((c) => c.text);
let sink = 0;
for (let r = 0; r < 300; r++) for (const t of texts) if (read(t).verdict === 'refusal') sink++;
let ops = 0;
const t0 = cpuNs(); const w0 = performance.now();
while (cpuNs() - t0 < 1.5e9) { for (const t of texts) if (read(t).verdict === 'refusal') sink++; ops += texts.length; }
const readerPerSec = Math.round(ops / ((cpuNs() - t0) / 1e9));
const readerWallPerSec = Math.round(ops / ((performance.now() - w0) / 1000));
console.log(`reader: ${readerPerSec.toLocaleString('en')} replies per CPU-second (${readerWallPerSec.toLocaleString('en')}/s wall), ${sink > 0 ? 'ok' : '?'}`);

// 2. push receiver
const SECRET = 'bench-inbound-secret-0123456789';
const KEY = 'bench-inbound-key-0123456789abc';
const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-inbound-bench-'));
const config = loadConfig({ env: { IYS_GATE_API_KEY: KEY }, overrides: {
  dataDir, logLevel: 'warn', brands: [{ brandCode: 42, shortNames: ['ABC'] }],
  upstreams: [{ name: 'verimor', adapter: 'verimor', url: 'http://127.0.0.1:9/', brandCode: 42 }],
  inbound: { numbers: { '+908501234567': [42] }, upstreams: { verimor: { secret: SECRET } }, keywords: ['RET', 'IPTAL', 'STOP', 'DUR', 'HAYIR'] },
} });
const store = new LmdbStore({ dataDir: join(dataDir, 'mirror') });
await store.open();
const app = await buildApp(config, { store, keys: new KeyRing(config), logger: false });
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
const agent = new Agent({ connections: CONC, pipelining: 1 });
const SHAPES = ['RET', 'iptal lütfen', 'beni listeden çıkarın', 'Siparişim ne zaman gelir?'];

async function run(label: string, path: string, shape: (i: number) => string, offset: number, headers: Record<string, string>) {
  let next = 0; const started = performance.now(); let failed = 0;
  const worker = async () => {
    while (next < REPLIES) {
      const from = next; next += BATCH;
      const body = Array.from({ length: Math.min(BATCH, REPLIES - from) }, (_v, i) => {
        const n = offset + from + i;
        return path.includes('verimor')
          ? { message_id: n, type: 'inbound', received_at: '2026-03-12 09:00:00', source_addr: `90532${String(1_000_000 + n).padStart(7, '0')}`, destination_addr: '908501234567', content: shape(n) }
          : { messageId: String(n), from: `90533${String(1_000_000 + n).padStart(7, '0')}`, to: '908501234567', text: shape(n) };
      });
      const r = await request(base + path, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      await r.body.text();
      if (r.statusCode !== 200) failed += body.length;
    }
  };
  await Promise.all(Array.from({ length: CONC }, worker));
  const s = (performance.now() - started) / 1000;
  const perSec = Math.round(REPLIES / s);
  console.log(`${label}: ${REPLIES} replies in ${s.toFixed(2)} s = ${perSec.toLocaleString('en')} replies/s (failed ${failed})`);
  return { replies: REPLIES, seconds: +s.toFixed(3), perSec, failed };
}

const baseline = await run('baseline (replies read as none: handled mark only)', '/v1/inbound', () => 'Teşekkürler', 10_000_000, { authorization: `Bearer ${KEY}` });
const receiver = await run('Verimor push receiver (mixed: ½ refusals, ¼ review, ¼ none)', `/v1/inbound/verimor/${SECRET}`, (n) => SHAPES[n % 4]!, 0, {});
const refused = (await app.iys.outbox.list((i) => i.consent.source === 'HS_MESAJ')).length;
console.log(`outbox items from replies: ${refused} (expected ${REPLIES / 2}); review open: ${app.inbound.state.counts('9999-12-31').open}`);
await app.close(); await store.close(); await agent.close();
rmSync(dataDir, { recursive: true, force: true });
const file = writeResult('inbound', { reader: { perCpuSecond: readerPerSec, perWallSecond: readerWallPerSec, corpus: texts.length }, receiver, baseline, ratio: +(receiver.perSec / baseline.perSec).toFixed(2), batch: BATCH, concurrency: CONC, store: 'lmdb', refusalsRecorded: refused });
console.log(`written ${file}`);
