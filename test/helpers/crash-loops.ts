import type { Test } from 'tap';
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { encodeFrame } from '../../src/mirror/append-log.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleGateway, startBundled } from './gateway-bundle.ts';
import { killHard } from './process.ts';

/**
 * Issue 12 item 1: rounds of kill -9 at random moments during concurrent refusals
 * (POST /v1/rejections), imports (POST /v1/mirror/import) and İYS pushes (POST /v1/iys/push)
 * against a real gateway process, with zero acknowledged-then-lost, checked at every restart in
 * the mirror (POST /v1/check/batch: BLOCK CONSENT_RET) and in the outbox (GET /v1/outbox).
 * One gateway process per round (bundled once, see gateway-bundle.ts). `CRASH_ROUNDS` (default 50)
 * rounds, stopped early past `budgetMs` of wall time on a loaded machine (the file's tap timeout
 * is 120 s); the rounds run are reported and at least `minRounds` must run.
 */
export async function runCrashLoops(t: Test, store: 'memory' | 'lmdb', opts: { budgetMs?: number; minRounds?: number } = {}): Promise<void> {
  const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 50);
  const budgetMs = opts.budgetMs ?? 60_000;
  const minRounds = Math.min(ROUNDS, opts.minRounds ?? 10);
  const started = Date.now();
  const bundle = await bundleGateway();
  t.teardown(bundle.remove);
  const dir = mkdtempSync(join(tmpdir(), `iysgate-crashloop-${store}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({
    dataDir: join(dir, 'data'), store, logLevel: 'info', mirrorMaxAgeMs: 0,
    iys: { baseUrl: 'http://127.0.0.1:9', iysCode: BRAND, username: 'u', password: 'p', brands: [BRAND], push: PUSH, pullIntervalMs: 0, uploadIntervalMs: 0 },
  }));
  const env = { IYS_GATE_CONFIG: configFile, IYS_GATE_API_KEY: KEY, IYS_GATE_DATA_DIR: join(dir, 'data') };
  const acked = { refusals: [] as string[], imports: [] as string[], pushes: [] as string[] };
  let cut = 0; // requests in flight when the process died
  let repairs = 0; // torn tails repaired at a start
  let torn = 0; // torn tails injected after a kill
  const lost: string[] = [];
  const outboxLost: string[] = [];

  const verify = async (base: string) => {
    const all = [...acked.refusals, ...acked.imports, ...acked.pushes];
    for (let i = 0; i < all.length; i += 5000) {
      const chunk = all.slice(i, i + 5000);
      const r = await fetch(base + '/v1/check/batch', { method: 'POST', headers: json, body: JSON.stringify({ brandCode: BRAND, type: 'MESAJ', recipients: chunk }) });
      const body = await r.json() as { results: Array<{ decision: string; reason: string }> };
      body.results.forEach((x, k) => { if (x.decision !== 'BLOCK' || x.reason !== 'CONSENT_RET') lost.push(`${chunk[k]} ${x.decision} ${x.reason}`); });
    }
    const ob = await (await fetch(base + '/v1/outbox?limit=1000', { headers: auth })).json() as { items: Array<{ consent: { recipient: string; status: string } }> };
    const queued = new Set(ob.items.filter((i) => i.consent.status === 'RET').map((i) => i.consent.recipient));
    for (const r of acked.refusals) if (!queued.has(r)) outboxLost.push(r);
  };

  let rounds = 0;
  for (let round = 0; ; round++) {
    const gw = await startBundled(bundle.file, env);
    repairs += (gw.output().match(/torn last record/g) ?? []).length;
    await verify(gw.base);
    if (round === ROUNDS || Date.now() - started > budgetMs) { await killHard(gw.child); rounds = round; break; }
    // traffic until a random number of answers (0–30) has come back, then kill -9 a few ms later
    const killAt = Math.floor(Math.random() * 31);
    let answers = 0;
    let dead = false;
    let refusalsLeft = REFUSALS_PER_ROUND;
    let fire!: () => void;
    const killNow = new Promise<void>((r) => { fire = r; });
    // an import takes longer than a refusal (worker thread): every other round waits for one first
    const importsNeeded = round % 2;
    let imports = 0;
    const answered = () => { if (++answers >= killAt && imports >= importsNeeded) fire(); };
    const guard = async (send: () => Promise<void>) => {
      while (!dead) {
        try { await send(); } catch { if (dead) { cut++; return; } throw new Error('request failed before the kill'); }
        answered();
      }
    };
    const refusal = () => guard(async () => {
      if (refusalsLeft <= 0) { await new Promise((r) => setTimeout(r, 5)); return; }
      refusalsLeft--;
      const recipient = nextRecipient();
      const r = await fetch(gw.base + '/v1/rejections', { method: 'POST', headers: json, body: JSON.stringify({ brandCode: BRAND, recipient, type: 'MESAJ' }) });
      const body = await r.json() as { queued?: boolean };
      if (r.status === 201 && body.queued) acked.refusals.push(recipient);
      else throw new Error(`refusal answered ${r.status} ${JSON.stringify(body)}`);
    });
    const importer = () => guard(async () => {
      const rows = Array.from({ length: IMPORT_ROWS }, () => nextRecipient());
      const csv = 'creationDate,transactionId,recipient,recipientType,type,status,consentDate,source\n'
        + rows.map((r, i) => `2026-11-20 10:00:01,${String(seq).padStart(8, '0')}${i},${r},BIREYSEL,MESAJ,RET,2026-11-20 10:00:00,HS_WEB`).join('\n') + '\n';
      const res = await fetch(gw.base + `/v1/mirror/import?brandCode=${BRAND}`, { method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body: csv });
      const body = await res.json() as { applied?: number; rejected?: number };
      if (res.status === 200 && body.applied === IMPORT_ROWS) { acked.imports.push(...rows); imports++; }
      else throw new Error(`import answered ${res.status} ${JSON.stringify(body)}`);
    });
    const pusher = () => guard(async () => {
      const rows = Array.from({ length: PUSH_ITEMS }, () => nextRecipient());
      const list = rows.map((recipient, i) => ({
        iysCode: BRAND, brandCode: BRAND, recipient, recipientType: 'BIREYSEL', type: 'MESAJ', status: 'RET', source: 'IYS_MOBIL',
        consentDate: '2026-11-21 10:00:00', creationDate: '2026-11-21 10:00:01', transactionId: `${seq}-${i}`.padEnd(64, 'a').slice(0, 64),
      }));
      const res = await fetch(gw.base + '/v1/iys/push', { method: 'POST', headers: pushAuth, body: JSON.stringify({ list }) });
      const body = await res.json() as { applied?: number };
      if (res.status === 200 && body.applied === PUSH_ITEMS) acked.pushes.push(...rows);
      else throw new Error(`push answered ${res.status} ${JSON.stringify(body)}`);
    });
    const workers = Promise.all([refusal(), refusal(), refusal(), importer(), pusher()]);
    if (killAt === 0 && importsNeeded === 0) fire();
    await Promise.race([killNow, workers]);
    await new Promise((r) => setTimeout(r, Math.random() * 4));
    dead = true;
    await killHard(gw.child);
    await workers;
    // every third round, what a power loss can leave on top of the kill: a torn tail (part of a
    // record, zeros or garbage) on the append-only files, repaired by the next start (C42)
    if (round % 3 === 2) {
      const files = [join(dir, 'data', 'outbox', 'outbox.log'), ...(store === 'memory' ? [join(dir, 'data', 'mirror', 'journal.log')] : [])];
      for (const f of files) {
        if ((statSync(f, { throwIfNoEntry: false })?.size ?? 0) <= 8) continue;
        const frame = encodeFrame(Buffer.from(`never-acknowledged ${round} ${'x'.repeat(60)}\n`));
        const kind = round % 9;
        appendFileSync(f, kind === 2 ? frame.subarray(0, 1 + Math.floor(Math.random() * (frame.length - 1)))
          : kind === 5 ? Buffer.alloc(512 + Math.floor(Math.random() * 4096)) : randomBytes(1 + Math.floor(Math.random() * 300)));
        torn++;
      }
    }
  }
  t.same(lost, [], `mirror: every acknowledged refusal, import row and push item is BLOCK CONSENT_RET after each of ${rounds} kill -9`);
  t.same(outboxLost, [], 'outbox: every acknowledged refusal is queued for İYS after each kill -9');
  t.ok(acked.refusals.length > ROUNDS && acked.imports.length > 0 && acked.pushes.length > 0,
    `traffic: ${acked.refusals.length} refusals, ${acked.imports.length} import rows, ${acked.pushes.length} push items acknowledged; ${cut} requests cut by a kill; ${repairs} torn tails repaired of ${torn} injected`);
  t.equal(repairs, torn, 'every injected torn tail was repaired at the next start');
  t.ok(cut > rounds / 2, `most kills landed while requests were in flight (${cut} cut in ${rounds} rounds)`);
  t.ok(rounds >= minRounds, `${rounds} of ${ROUNDS} rounds run within ${budgetMs} ms (at least ${minRounds})`);
}

const KEY = 'crash-loop-key-0123456789';
const BRAND = 700001;
const PUSH = { username: 'iys-push', password: 'push-secret-123' };
const auth = { authorization: `Bearer ${KEY}` };
const json = { ...auth, 'content-type': 'application/json' };
const pushAuth = { authorization: 'Basic ' + Buffer.from(`${PUSH.username}:${PUSH.password}`).toString('base64'), 'content-type': 'application/json' };
/** Refusals per round: the outbox listing shows 1,000 items at most, and every one is checked. */
const REFUSALS_PER_ROUND = 16;
const IMPORT_ROWS = 40;
const PUSH_ITEMS = 20;

let seq = 0;
const nextRecipient = () => `+90532${String(1_000_000 + seq++).padStart(7, '0')}`;

