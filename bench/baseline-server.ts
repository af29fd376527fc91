/**
 * Baseline server of the HTTP benchmarks (issue 2 "Speed and size"; STYLE.md habit 9): the least a
 * fastify server can do for the same exchange as the gateway.
 *
 * - `POST /check`: parses the same JSON body (fastify's default parser, no schema), does ONE `Map`
 *   lookup and returns a JSON object of the same shape and size as `/v1/check`'s answer
 *   (`decision`, `reason`, `recipient`, `consent`, `asOf`).
 * - `POST /check/batch`: same body as `/v1/check/batch`, one `Map` lookup per recipient, answer of
 *   the same shape as the gateway's (`results[] { input, recipient, decision, reason }`, `counts`, `asOf`).
 * - `POST /inbound/:upstream/:secret`: the inbound push receiver's bare twin (bench/inbound.bench.ts).
 * - `GET /healthz`.
 *
 * No auth, no normalization, no validation, no policy, no metrics, no logging: the ratio
 * gateway / baseline is the cost of all of those.
 *
 * The Map is filled from the same İYS daily CSV the gateway imported (last row per key wins), plus
 * `--aliases FILE` (JSON `[input, canonical][]`): request spellings the gateway normalizes, so that
 * the baseline's one lookup finds the same record and its answer has the same size.
 *
 * Run: `node --import tsx bench/baseline-server.ts --port N --csv FILE [--aliases FILE]` (127.0.0.1).
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

interface Rec { status: string; source: string | null; consentDate: string | null; creationDate: string | null; transactionId: string | null }
interface CheckBody { recipient: string; type: string; recipientType?: string }
interface BatchBody { recipients: string[]; type: string; recipientType?: string }

const { values } = parseArgs({ options: { port: { type: 'string' }, csv: { type: 'string' }, aliases: { type: 'string' } } });
const map = new Map<string, Rec>();
if (values.csv) {
  // streamed: a 10M-row file (1.5 GB) is past V8's longest string
  let header = true;
  for await (const line of createInterface({ input: createReadStream(values.csv), crlfDelay: Infinity })) {
    if (header) { header = false; continue; }
    const f = line.split(',');
    if (f.length !== 8) continue;
    // creationDate,transactionId,recipient,recipientType,type,status,consentDate,source
    map.set(`${f[4]}|${f[3]}|${f[2]}`, { status: f[5]!, source: f[7] || null, consentDate: f[6] || null, creationDate: f[0] || null, transactionId: f[1] || null });
  }
}
if (values.aliases) {
  for (const [input, canonical, type, rt] of JSON.parse(readFileSync(values.aliases, 'utf8')) as Array<[string, string, string, string]>) {
    const rec = map.get(`${type}|${rt}|${canonical}`);
    if (rec) map.set(`${type}|${rt}|${input}`, rec);
  }
}

const asOf = '2026-11-29T14:00:00+03:00';
const app = Fastify({ logger: false });
app.post<{ Body: CheckBody }>('/check', async (req) => {
  const b = req.body;
  const rec = map.get(`${b.type}|${b.recipientType ?? 'BIREYSEL'}|${b.recipient}`);
  if (rec === undefined) return { decision: 'BLOCK', reason: 'NO_CONSENT', recipient: b.recipient, consent: null, asOf };
  const allow = rec.status === 'ONAY';
  return { decision: allow ? 'ALLOW' : 'BLOCK', reason: allow ? 'CONSENT_ONAY' : 'CONSENT_RET', recipient: b.recipient, consent: rec, asOf };
});
app.post<{ Body: BatchBody }>('/check/batch', async (req) => {
  const b = req.body;
  const prefix = `${b.type}|${b.recipientType ?? 'BIREYSEL'}|`;
  const results = new Array<{ input: string; recipient: string; decision: string; reason: string }>(b.recipients.length);
  let allow = 0;
  for (let i = 0; i < b.recipients.length; i++) {
    const r = b.recipients[i]!;
    const rec = map.get(prefix + r);
    const ok = rec?.status === 'ONAY';
    if (ok) allow++;
    results[i] = { input: r, recipient: r, decision: ok ? 'ALLOW' : 'BLOCK', reason: rec === undefined ? 'NO_CONSENT' : ok ? 'CONSENT_ONAY' : 'CONSENT_RET' };
  }
  return { results, counts: { ALLOW: allow, BLOCK: b.recipients.length - allow }, asOf };
});
// the inbound push receiver's bare twin (bench/inbound.bench.ts): the body read as bytes, decoded as
// strict UTF-8, parsed as JSON, answered with a summary of the same shape; nothing read or recorded
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
app.register(async (inbound) => {
  inbound.removeAllContentTypeParsers();
  inbound.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  inbound.post<{ Params: { upstream: string; secret: string } }>('/inbound/:upstream/:secret', async (req) => {
    const items = JSON.parse(STRICT_UTF8.decode(req.body as Buffer)) as Array<{ message_id?: unknown }>;
    const results = items.map((it) => ({ messageKey: `${req.params.upstream}:${String(it.message_id)}`, status: 'ignored', verdict: 'none', refusals: [] }));
    return { received: results.length, refused: 0, review: 0, ignored: results.length, duplicate: 0, results };
  });
});
app.get('/healthz', async () => ({ status: 'ok', entries: map.size }));
await app.listen({ port: Number(values.port ?? 8099), host: '127.0.0.1' });
// A normal exit on SIGINT/SIGTERM, so `node --cpu-prof` writes its profile.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void app.close().then(() => process.exit(0)); });
