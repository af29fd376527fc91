import type { Test } from 'tap';
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { encodeFrame } from '../../src/mirror/append-log.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleGateway, GatewayLauncher } from './gateway-bundle.ts';
import { killHard } from './process.ts';

/**
 * Issue 12 item 1: rounds of kill -9 at random moments during concurrent refusals
 * (POST /v1/rejections), imports (POST /v1/mirror/import) and İYS pushes (POST /v1/iys/push)
 * against a real gateway process, with zero acknowledged-then-lost, checked at every restart in
 * the mirror (POST /v1/check/batch: BLOCK CONSENT_RET) and in the outbox (GET /v1/outbox).
 * One gateway process per round (bundled once; the next process has its modules loaded while the
 * current round runs, see GatewayLauncher in gateway-bundle.ts: every round is still a kill -9 of
 * a real gateway process and a fresh process that opens the store from disk). `CRASH_ROUNDS`
 * (default 50) rounds, stopped early past `budgetMs` of wall time (the file's tap timeout is
 * 120 s); the rounds run and the time per phase are printed. Under CI=true all 50 rounds must run;
 * elsewhere (a dev machine shared by parallel test runs, load 10–30 on 2 cores) at least `minRounds` (5).
 */
/** Tap timeout of a crash-loop file, ms: above the CI budget of 200 s plus start and teardown. */
export const CRASH_LOOP_FILE_TIMEOUT_MS = 240_000;

export async function runCrashLoops(t: Test, store: 'memory' | 'lmdb', opts: { budgetMs?: number; minRounds?: number } = {}): Promise<void> {
  const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 50);
  // under CI all 50 rounds must run: the budget leaves room for a machine running other test
  // files beside this one (the file raises its own tap timeout to CRASH_LOOP_FILE_TIMEOUT_MS)
  const budgetMs = opts.budgetMs ?? (process.env.CI === 'true' ? 200_000 : 100_000);
  const minRounds = process.env.CI === 'true' ? 50 : Math.min(ROUNDS, opts.minRounds ?? 5);
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
  const launcher = new GatewayLauncher(bundle.dir, env);
  t.teardown(() => launcher.close());
  // the code cache the round's processes load is written by a gateway on another data dir that
  // was sent the requests of a round (its recipients are not part of the checks below)
  await launcher.warm(join(dir, 'warm-up'), async (base) => {
    await Promise.all([sendRefusal(base, nextRecipient()), sendRefusal(base, nextRecipient()), sendImport(base, Array.from({ length: IMPORT_ROWS }, nextRecipient)), sendPush(base, Array.from({ length: PUSH_ITEMS }, nextRecipient))]);
    await checkBatch(base, Array.from({ length: 100 }, nextRecipient));
    await listOutbox(base);
  });
  const phaseMs = { start: 0, verify: 0, traffic: 0 }; // summed over the rounds
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
      (await checkBatch(base, chunk)).forEach((x, k) => { if (x.decision !== 'BLOCK' || x.reason !== 'CONSENT_RET') lost.push(`${chunk[k]} ${x.decision} ${x.reason}`); });
    }
    const queued = new Set((await listOutbox(base)).filter((i) => i.consent.status === 'RET').map((i) => i.consent.recipient));
    for (const r of acked.refusals) if (!queued.has(r)) outboxLost.push(r);
  };

  let rounds = 0;
  for (let round = 0; ; round++) {
    const t0 = performance.now();
    const gw = await launcher.start();
    const t1 = performance.now();
    repairs += (gw.output().match(/torn last record/g) ?? []).length;
    await verify(gw.base);
    const t2 = performance.now();
    phaseMs.start += t1 - t0;
    phaseMs.verify += t2 - t1;
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
        try { await send(); } catch (err) { if (dead) { cut++; return; } throw new Error(`request failed before the kill: ${(err as Error).message}`); }
        answered();
      }
    };
    const refusal = () => guard(async () => {
      if (refusalsLeft <= 0) { await new Promise((r) => setTimeout(r, 5)); return; }
      refusalsLeft--;
      const recipient = nextRecipient();
      await sendRefusal(gw.base, recipient);
      acked.refusals.push(recipient);
    });
    const importer = () => guard(async () => {
      const rows = Array.from({ length: IMPORT_ROWS }, () => nextRecipient());
      await sendImport(gw.base, rows);
      acked.imports.push(...rows);
      imports++;
    });
    const pusher = () => guard(async () => {
      const rows = Array.from({ length: PUSH_ITEMS }, () => nextRecipient());
      await sendPush(gw.base, rows);
      acked.pushes.push(...rows);
    });
    const workers = Promise.all([refusal(), refusal(), refusal(), importer(), pusher()]);
    if (killAt === 0 && importsNeeded === 0) fire();
    await Promise.race([killNow, workers]);
    await new Promise((r) => setTimeout(r, Math.random() * 4));
    dead = true;
    await killHard(gw.child);
    await workers;
    phaseMs.traffic += performance.now() - t2;
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
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const per = (ms: number) => Math.round(ms / Math.max(1, rounds));
  t.comment(`crash loops (${store}): ${rounds} rounds of kill -9 in ${seconds} s; per round: start ${per(phaseMs.start)} ms (of which waiting for the standby's modules ${per(launcher.waitedMs)} ms; ${launcher.cached} of ${rounds + 1} loaded the code cache), verify ${per(phaseMs.verify)} ms, traffic and kill ${per(phaseMs.traffic)} ms`);
  t.same(lost, [], `mirror: every acknowledged refusal, import row and push item is BLOCK CONSENT_RET after each of ${rounds} kill -9`);
  t.same(outboxLost, [], 'outbox: every acknowledged refusal is queued for İYS after each kill -9');
  t.ok(acked.refusals.length > ROUNDS && acked.imports.length > 0 && acked.pushes.length > 0,
    `traffic: ${acked.refusals.length} refusals, ${acked.imports.length} import rows, ${acked.pushes.length} push items acknowledged; ${cut} requests cut by a kill; ${repairs} torn tails repaired of ${torn} injected`);
  t.equal(repairs, torn, 'every injected torn tail was repaired at the next start');
  t.ok(cut > rounds / 2, `most kills landed while requests were in flight (${cut} cut in ${rounds} rounds)`);
  t.ok(rounds >= minRounds, `${rounds} of ${ROUNDS} rounds run within ${budgetMs} ms in ${seconds} s (at least ${minRounds}${process.env.CI === 'true' ? ' under CI' : ''})`);
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

/** POST /v1/rejections: resolves on 201 queued, throws on any other answer. */
async function sendRefusal(base: string, recipient: string): Promise<void> {
  const r = await fetch(base + '/v1/rejections', { method: 'POST', headers: json, body: JSON.stringify({ brandCode: BRAND, recipient, type: 'MESAJ' }) });
  const body = await r.json() as { queued?: boolean };
  if (r.status !== 201 || !body.queued) throw new Error(`refusal answered ${r.status} ${JSON.stringify(body)}`);
}

/** POST /v1/mirror/import of RET rows: resolves once every row is applied, throws otherwise. */
async function sendImport(base: string, rows: string[]): Promise<void> {
  const csv = 'creationDate,transactionId,recipient,recipientType,type,status,consentDate,source\n'
    + rows.map((r, i) => `2026-11-20 10:00:01,${String(seq).padStart(8, '0')}${i},${r},BIREYSEL,MESAJ,RET,2026-11-20 10:00:00,HS_WEB`).join('\n') + '\n';
  const res = await fetch(base + `/v1/mirror/import?brandCode=${BRAND}`, { method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body: csv });
  const body = await res.json() as { applied?: number; rejected?: number };
  if (res.status !== 200 || body.applied !== rows.length) throw new Error(`import answered ${res.status} ${JSON.stringify(body)}`);
}

/** POST /v1/iys/push of RET items: resolves once every item is applied, throws otherwise. */
async function sendPush(base: string, rows: string[]): Promise<void> {
  const list = rows.map((recipient, i) => ({
    iysCode: BRAND, brandCode: BRAND, recipient, recipientType: 'BIREYSEL', type: 'MESAJ', status: 'RET', source: 'IYS_MOBIL',
    consentDate: '2026-11-21 10:00:00', creationDate: '2026-11-21 10:00:01', transactionId: `${seq}-${i}`.padEnd(64, 'a').slice(0, 64),
  }));
  const res = await fetch(base + '/v1/iys/push', { method: 'POST', headers: pushAuth, body: JSON.stringify({ list }) });
  const body = await res.json() as { applied?: number };
  if (res.status !== 200 || body.applied !== rows.length) throw new Error(`push answered ${res.status} ${JSON.stringify(body)}`);
}

/** POST /v1/check/batch (MESAJ): the decisions, in order. */
async function checkBatch(base: string, recipients: string[]): Promise<Array<{ decision: string; reason: string }>> {
  const r = await fetch(base + '/v1/check/batch', { method: 'POST', headers: json, body: JSON.stringify({ brandCode: BRAND, type: 'MESAJ', recipients }) });
  return (await r.json() as { results: Array<{ decision: string; reason: string }> }).results;
}

/** GET /v1/outbox (up to 1,000 items). */
async function listOutbox(base: string): Promise<Array<{ consent: { recipient: string; status: string } }>> {
  return (await (await fetch(base + '/v1/outbox?limit=1000', { headers: auth })).json() as { items: Array<{ consent: { recipient: string; status: string } }> }).items;
}

let seq = 0;
const nextRecipient = () => `+90532${String(1_000_000 + seq++).padStart(7, '0')}`;

