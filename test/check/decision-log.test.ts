import t from 'tap';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecipientHasher } from '../../src/check/decision-log/recipient-keys.ts';
import { makeGateway } from '../helpers/gateway.ts';

t.test('the JS HMAC-SHA256 equals node:crypto (short, 55-byte, long, non-ASCII inputs)', async (t) => {
  const key = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
  const h = new RecipientHasher({ id: 3, key });
  for (const s of ['+905321112233', 'a@b.co', 'x'.repeat(55), 'y'.repeat(56), 'çağrı@örnek.com.tr', '', 'z'.repeat(300)]) {
    t.same(h.hash(s), createHmac('sha256', key).update(s).digest().subarray(0, 10), JSON.stringify(s).slice(0, 20));
  }
});

t.test('/v1/check answers a decisionId and the record is on disk within flushMs', async (t) => {
  const gw = await makeGateway(t, { decisions: { writer: 'inline', flushMs: 20 } });
  const r = await gw.call('POST', '/v1/check', { brandCode: 1, recipient: '05321112233', type: 'MESAJ', recipientType: 'BIREYSEL', messageType: 'TICARI' });
  t.equal(r.status, 200);
  t.match(r.body.decisionId, /^[0-9a-f]{8}-[0-9a-z]+$/);
  await gw.app.decisions!.commit();
  const files = readdirSync(join(gw.dataDir, 'decisions'));
  t.ok(files.some((f) => f.endsWith('.dlog')), files.join(','));
  const raw = Buffer.concat(files.filter((f) => f.startsWith('seg-')).map((f) => readFileSync(join(gw.dataDir, 'decisions', f))));
  t.notOk(raw.includes(Buffer.from('5321112233')), 'no recipient in clear');
});
