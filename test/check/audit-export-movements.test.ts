/**
 * Issue 15: `iys-gate audit export` writes a complaint file with each decision and its consent
 * snapshot, then the movements of the recipient's keys as the mirror applied them (movement
 * history), the one in force at --from marked; a decision's movementRef finds its movement.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { auditMain } from '../../src/check/decision-log/audit-cli.ts';
import { LmdbStore } from '../../src/mirror/lmdb-store.ts';
import { makeGateway } from '../helpers/gateway.ts';
import { mv } from '../mirror/store-contract.ts';

const BRAND = 700_201;
const DAY = 86_400_000;
const sink = () => { const chunks: string[] = []; return { chunks, w: new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) }; };

/** The two tables of a complaint file: decisions, then (after an empty line) movements. */
function tables(text: string): { decisions: Record<string, string>[]; movements: Record<string, string>[] } {
  const [a, b] = text.split('\n\n');
  const parse = (part: string | undefined) => {
    const lines = (part ?? '').split('\n').filter((l) => l.length > 0);
    const head = lines[0]!.split(',');
    return lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i]!, v])));
  };
  return { decisions: parse(a), movements: b === undefined ? [] : parse(b) };
}

t.test('export: decisions, then the key\'s movements with applied times; the one in force at --from marked', async (t) => {
  const gw = await makeGateway(t, { store: 'memory', brands: [BRAND], decisions: { writer: 'inline', flushMs: 10 } });
  const now = Date.now();
  const T1 = now - 3 * DAY;
  const T2 = now - DAY;
  const onay = mv({ brandCode: BRAND, recipient: '+905321220090', consentDate: '2026-01-05 10:00:00', creationDate: '2026-01-05 10:00:01', transactionId: 'ex-onay' });
  const ret = mv({ ...onay, status: 'RET', source: 'HS_MESAJ', consentDate: '2026-02-05 10:00:00', creationDate: '2026-02-05 10:00:02', transactionId: 'ex-ret' });
  const tacir = mv({ ...onay, recipientType: 'TACIR', transactionId: 'ex-tacir' });
  const other = mv({ ...onay, recipient: '+905321220091', transactionId: 'ex-other' });
  await gw.store.apply([onay, other], { appliedAtMs: T1 });
  await gw.store.apply([tacir], { appliedAtMs: T1 + 1000 });
  await gw.store.apply([ret], { appliedAtMs: T2 });
  const c = await gw.call('POST', '/v1/check', { brandCode: BRAND, recipient: '0532 122 00 90', type: 'MESAJ', messageType: 'TICARI' });
  t.same([c.body.decision, c.body.reason], ['BLOCK', 'CONSENT_RET']);
  await gw.app.close(); // the decision log is flushed and the mirror's lock released, as after a stop
  await gw.store.close();

  const cfg = join(gw.dataDir, 'cfg.json');
  writeFileSync(cfg, JSON.stringify({ dataDir: gw.dataDir, store: 'memory', brands: [BRAND], apiKeys: [{ name: 'k', key: 'k-0123456789abcdef-k', scopes: '*' }] }));
  const out = join(gw.dataDir, 'complaint.csv');
  const err = sink();
  const code = await auditMain(['export', '--config', cfg, '--recipient', '05321220090', '--from', new Date(T1 + DAY).toISOString(), '--to', String(now + 60_000), '--out', out], sink().w, err.w);
  t.equal(code, 0, err.chunks.join(''));
  t.match(err.chunks.join(''), /1 decisions and 3 movements written/);
  const text = readFileSync(out, 'utf8');
  const { decisions, movements } = tables(text);
  t.equal(decisions.length, 1);
  t.match(decisions[0], { decision: 'BLOCK', reason: 'CONSENT_RET', consentStatus: 'RET' });
  t.same(movements.map((m) => [m.appliedAtMs, m.outcome, m.inForceAtFrom, m.recipientType, m.type, m.status, m.transactionId]), [
    [String(T1), 'applied', 'yes', 'BIREYSEL', 'MESAJ', 'ONAY', 'ex-onay'],
    [String(T2), 'applied', '', 'BIREYSEL', 'MESAJ', 'RET', 'ex-ret'],
    [String(T1 + 1000), 'applied', 'yes', 'TACIR', 'MESAJ', 'ONAY', 'ex-tacir'],
  ], 'the recipient\'s keys only (BIREYSEL and TACIR), in apply order; the other recipient is absent');
  t.equal(movements[0]!.appliedAt, new Date(T1).toISOString());
  t.equal(movements[1]!.movementRef, decisions[0]!.movementRef, 'the decision\'s movementRef names the RET movement');
  t.notMatch(text, /5321220090/, 'no phone number in the file without an encryption key');

  const early = sink();
  t.equal(await auditMain(['export', '--config', cfg, '--recipient', '05321220090', '--from', String(T1 - DAY), '--to', String(T1 + 500), '--out', out], sink().w, early.w), 0);
  const e = tables(readFileSync(out, 'utf8'));
  t.same(e.movements.map((m) => [m.transactionId, m.inForceAtFrom]), [['ex-onay', '']], 'movements applied after --to are left out; nothing was in force before T1');
});

t.test('export beside a running gateway on LMDB: the mirror is read read-only, without its lock', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-export-'));
  const gw = { dataDir };
  const live = new LmdbStore({ dataDir: join(gw.dataDir, 'mirror') });
  await live.open();
  t.teardown(async () => { await live.close(); rmSync(dataDir, { recursive: true, force: true }); });
  const T1 = Date.now() - DAY;
  await live.apply([mv({ brandCode: BRAND, recipient: 'ayse.kaya@example.com.tr', type: 'EPOSTA', transactionId: 'ex-mail' })], { appliedAtMs: T1 });
  const cfg = join(gw.dataDir, 'cfg-lmdb.json');
  writeFileSync(cfg, JSON.stringify({ dataDir: gw.dataDir, brands: [BRAND], apiKeys: [{ name: 'k', key: 'k-0123456789abcdef-k', scopes: '*' }] }));
  const out = join(gw.dataDir, 'complaint-lmdb.csv');
  const err = sink();
  const code = await auditMain(['export', '--config', cfg, '--recipient', 'Ayse.Kaya@example.com.tr', '--from', String(T1 - 1), '--to', String(Date.now()), '--out', out], sink().w, err.w);
  t.equal(code, 0, err.chunks.join(''));
  const { movements } = tables(readFileSync(out, 'utf8'));
  t.same(movements.map((m) => [m.appliedAtMs, m.type, m.recipientType, m.transactionId]), [[String(T1), 'EPOSTA', 'BIREYSEL', 'ex-mail']]);
  t.same(await live.apply([mv({ brandCode: BRAND, recipient: 'ayse.kaya@example.com.tr', type: 'EPOSTA', status: 'RET', consentDate: '2026-05-01 00:00:00', transactionId: 'ex-mail-2' })]), ['applied'],
    'the running store still writes after the export');
});
