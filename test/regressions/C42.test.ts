// C42: a log reopened for append after a torn tail fused the next record onto the fragment: a
// partial last line in journal.log, then a refusal answered 201, then kill -9, then start → the
// refusal came back ALLOW CONSENT_ONAY; same for an outbox item. Now every data file goes through
// src/mirror/append-log.ts: the torn tail is copied aside and truncated before the first append.
import t from 'tap';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame } from '../../src/mirror/append-log.ts';
import { movementToLine } from '../../src/mirror/movement-codec.ts';
import { killHard, spawnGateway, startGatewayProcess } from '../helpers/process.ts';

const KEY = 'c42-test-key-0123456789';
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const BRAND = 42;

function dataDir(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'iysgate-c42-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const onay = (recipient: string) => movementToLine({
  brandCode: BRAND, recipientType: 'BIREYSEL', type: 'MESAJ', recipient, status: 'ONAY', source: 'HS_WEB',
  consentDate: '2025-01-02 10:00:00', creationDate: '2025-01-02 10:00:05', transactionId: 'ab'.repeat(32), noncanonical: false,
});

const legacyOutboxLine = (id: string, recipient: string) => JSON.stringify({
  op: 'add', item: {
    id, brandCode: BRAND, origin: 'rejection', receivedAt: '2025-01-02T07:00:00.000Z', deadline: '2025-01-07', state: 'pending', attempts: 0,
    nextAttemptAt: 0, createdAt: 0, updatedAt: 0,
    consent: { recipient, type: 'MESAJ', recipientType: 'BIREYSEL', status: 'RET', source: 'HS_MESAJ', consentDate: '2025-01-02 10:00:00' },
  },
}) + '\n';

async function refuse(base: string, recipient: string) {
  const r = await fetch(base + '/v1/rejections', { method: 'POST', headers, body: JSON.stringify({ brandCode: BRAND, recipient, type: 'MESAJ' }) });
  return { status: r.status, body: await r.json() as { outcome: string; queued: boolean } };
}

async function check(base: string, recipient: string) {
  const r = await fetch(base + '/v1/check', { method: 'POST', headers, body: JSON.stringify({ brandCode: BRAND, recipient, type: 'MESAJ' }) });
  return await r.json() as { decision: string; reason: string };
}

async function outboxRecipients(base: string): Promise<string[]> {
  const r = await fetch(base + '/v1/outbox?limit=1000', { headers });
  const body = await r.json() as { items: Array<{ consent: { recipient: string } }> };
  return body.items.map((i) => i.consent.recipient).sort();
}

/** Runs the gateway until it exits by itself (a refused start); resolves with its code and output. */
async function startRefused(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const { child, output } = await spawnGateway(env);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  return { code, out: output() };
}

t.test('C42 trigger: a partial last line in journal.log (and outbox.log) of the earlier release, a refusal answered 201, kill -9, start: BLOCK CONSENT_RET and the outbox item is back', async (t) => {
  const dir = dataDir(t);
  const env = { IYS_GATE_DATA_DIR: dir, IYS_GATE_API_KEY: KEY, IYS_GATE_STORE: 'memory' }; // the memory store's journal is under test
  mkdirSync(join(dir, 'mirror'), { recursive: true });
  mkdirSync(join(dir, 'outbox'), { recursive: true });
  // what the earlier release left after a crash mid-write: a consent, then half a line
  writeFileSync(join(dir, 'mirror', 'journal.log'), onay('+905320000042') + onay('+905320000043').slice(0, 20));
  writeFileSync(join(dir, 'outbox', 'outbox.log'), legacyOutboxLine('11111111-1111-4111-8111-111111111111', '+905329999999') + '{"op":"add","item":{"id":"2222');

  const a = await startGatewayProcess(env);
  t.teardown(() => killHard(a.child));
  t.match(await check(a.base, '+905320000042'), { decision: 'ALLOW', reason: 'CONSENT_ONAY' }, 'the consent of the old journal is read');
  const r = await refuse(a.base, '+905320000042');
  t.equal(r.status, 201);
  t.match(r.body, { outcome: 'applied', queued: true });
  await killHard(a.child); // no graceful close, no snapshot

  const b = await startGatewayProcess(env);
  t.teardown(() => killHard(b.child));
  t.match(await check(b.base, '+905320000042'), { decision: 'BLOCK', reason: 'CONSENT_RET' }, 'the refusal acknowledged after the torn tail survived');
  t.same(await outboxRecipients(b.base), ['+905320000042', '+905329999999'], 'the queued refusal and the old item are both in the outbox');
  t.ok(existsSync(join(dir, 'mirror', 'journal.log.legacy')), 'the old journal is kept aside');
  t.match(b.output() + a.output(), /torn last line/, 'the torn line was reported');
});

t.test('C42 in the framed format: a torn record in journal.log and outbox.log, then a refusal, kill -9, start', async (t) => {
  const dir = dataDir(t);
  const env = { IYS_GATE_DATA_DIR: dir, IYS_GATE_API_KEY: KEY, IYS_GATE_STORE: 'memory' }; // the memory store's journal is under test
  const a = await startGatewayProcess(env);
  t.teardown(() => killHard(a.child));
  t.equal((await refuse(a.base, '+905320000050')).status, 201);
  await killHard(a.child);
  // a crash mid-write left part of a record at the end of both logs
  const torn = encodeFrame(Buffer.from(onay('+905320000051')));
  appendFileSync(join(dir, 'mirror', 'journal.log'), torn.subarray(0, 30));
  appendFileSync(join(dir, 'outbox', 'outbox.log'), torn.subarray(0, 11));

  const b = await startGatewayProcess(env);
  t.teardown(() => killHard(b.child));
  t.equal((await refuse(b.base, '+905320000052')).status, 201);
  await killHard(b.child);
  t.ok(existsSync(join(dir, 'mirror', 'journal.log.broken')), 'journal copied aside before the truncation');
  t.ok(existsSync(join(dir, 'outbox', 'outbox.log.broken')), 'outbox copied aside before the truncation');

  const c = await startGatewayProcess(env);
  t.teardown(() => killHard(c.child));
  t.match(await check(c.base, '+905320000050'), { decision: 'BLOCK', reason: 'CONSENT_RET' });
  t.match(await check(c.base, '+905320000052'), { decision: 'BLOCK', reason: 'CONSENT_RET' }, 'the refusal written after the repair survived');
  t.same(await outboxRecipients(c.base), ['+905320000050', '+905320000052']);
  t.match(b.output(), /torn last record at byte \d+ \(30 bytes/);
});

t.test('a zero-filled journal tail (file grown, data never written) is repaired the same way', async (t) => {
  const dir = dataDir(t);
  const env = { IYS_GATE_DATA_DIR: dir, IYS_GATE_API_KEY: KEY, IYS_GATE_STORE: 'memory' }; // the memory store's journal is under test
  const a = await startGatewayProcess(env);
  t.teardown(() => killHard(a.child));
  t.equal((await refuse(a.base, '+905320000060')).status, 201);
  await killHard(a.child);
  appendFileSync(join(dir, 'mirror', 'journal.log'), Buffer.alloc(8192));
  appendFileSync(join(dir, 'outbox', 'outbox.log'), Buffer.alloc(8192));
  const b = await startGatewayProcess(env);
  t.teardown(() => killHard(b.child));
  t.equal((await refuse(b.base, '+905320000061')).status, 201);
  await killHard(b.child);
  const c = await startGatewayProcess(env);
  t.teardown(() => killHard(c.child));
  for (const n of ['+905320000060', '+905320000061']) t.match(await check(c.base, n), { decision: 'BLOCK', reason: 'CONSENT_RET' }, n);
  t.same(await outboxRecipients(c.base), ['+905320000060', '+905320000061']);
});

t.test('a flipped byte in the middle of journal.log: the start is refused with GW_ERR_LOG_CORRUPT naming file and offset', async (t) => {
  const dir = dataDir(t);
  const env = { IYS_GATE_DATA_DIR: dir, IYS_GATE_API_KEY: KEY, IYS_GATE_STORE: 'memory' }; // the memory store's journal is under test
  const a = await startGatewayProcess(env);
  t.teardown(() => killHard(a.child));
  for (const n of ['+905320000070', '+905320000071', '+905320000072']) t.equal((await refuse(a.base, n)).status, 201);
  await killHard(a.child);
  const path = join(dir, 'mirror', 'journal.log');
  const buf = readFileSync(path);
  buf[8 + 9 + 5]! ^= 0x20; // inside the first record's payload
  writeFileSync(path, buf);
  const r = await startRefused(env);
  t.equal(r.code, 1, 'the process exits 1');
  t.match(r.out, /GW_ERR_LOG_CORRUPT/);
  t.match(r.out, `${path} is damaged at byte 8 (checksum mismatch; a valid record follows`);
  t.same(readFileSync(path), buf, 'the file is not truncated');
});

t.test('a snapshot cut short is refused, never read as a smaller mirror', async (t) => {
  const dir = dataDir(t);
  const env = { IYS_GATE_DATA_DIR: dir, IYS_GATE_API_KEY: KEY, IYS_GATE_STORE: 'memory' }; // the memory store's journal is under test
  const a = await startGatewayProcess(env);
  t.teardown(() => killHard(a.child));
  t.equal((await refuse(a.base, '+905320000080')).status, 201);
  a.child.kill('SIGTERM'); // clean shutdown: the snapshot is written
  await new Promise((r) => a.child.once('exit', r));
  const path = join(dir, 'mirror', 'snapshot.log');
  const full = readFileSync(path);
  t.ok(full.length > 20, 'snapshot written');
  writeFileSync(path, full.subarray(0, full.length - 4));
  const r = await startRefused(env);
  t.equal(r.code, 1);
  t.match(r.out, new RegExp(`GW_ERR_LOG_CORRUPT: Data file ${path.replace(/[.]/g, '\\.')} is damaged at byte \\d+ \\(.*incomplete`));
});
