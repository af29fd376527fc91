import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { startTestSimulator, DEMO } from '../../src/simulator/testing.ts';

const FIXTURE = readFileSync(new URL('../fixtures/iys-daily-sample.csv', import.meta.url), 'utf8');
const P = `/sps/${DEMO.iysCode}/brands/${DEMO.brandCode}`;

async function seeded(t: Test) {
  const sim = await startTestSimulator({ clockStartAt: '2026-03-04T10:00:00+03:00', clockFrozen: true });
  t.teardown(() => sim.close());
  const rows = FIXTURE.trim().split('\n').slice(1).map((l) => l.split(','));
  // Seed the last rows first so the file's order comes from the simulator's sort (movements of
  // one second and transactionId keep their recording order).
  const order = [...rows.slice(8), ...rows.slice(0, 8)];
  for (const [creationDate, transactionId, recipient, recipientType, type, status, consentDate, source] of order) {
    const r = await sim.http('POST', '/_sim/movements', {
      brandCode: DEMO.brandCode, creationDate, transactionId, recipient, recipientType, type, status,
      ...(consentDate ? { consentDate } : {}), ...(source ? { source } : {}),
    });
    if (r.status !== 201) throw new Error(r.text);
  }
  const auth = { authorization: `Bearer ${await sim.token()}` };
  return { sim, auth };
}

t.test('daily movement file reproduces İYS layout byte for byte; 204 for an empty day', async (t) => {
  const { sim, auth } = await seeded(t);
  const f = await sim.http('GET', `${P}/changes/2026-03-02/file`, undefined, auth);
  t.equal(f.status, 200);
  t.match(String(f.headers['content-type']), /text\/csv/);
  t.equal(f.text, FIXTURE);
  t.equal((await sim.http('GET', `${P}/changes/2026-03-03/file`, undefined, auth)).status, 204);
});

t.test('SHA-384 agreement: hash of the daily file; confirm with true only', async (t) => {
  const { sim, auth } = await seeded(t);
  const a = await sim.http('GET', `${P}/agreements/2026-03-02`, undefined, auth);
  t.equal(a.status, 200);
  t.same(a.body, {
    processStatus: 'completed', hashValue: createHash('sha384').update(FIXTURE).digest('hex'), hashMethod: 'SHA-384', agreementStatus: false,
  });
  const no = await sim.http('PUT', `${P}/agreements/2026-03-02`, { agreementStatus: false }, auth);
  t.equal(no.status, 422);
  t.equal(no.body.errors[0].code, 'H512');
  const yes = await sim.http('PUT', `${P}/agreements/2026-03-02`, { agreementStatus: true }, auth);
  t.same(yes.body, { agreementCaptured: true });
  t.equal((await sim.http('GET', `${P}/agreements/2026-03-02`, undefined, auth)).body.agreementStatus, true);
});

t.test('report dates: H501 format, H502 more than 7 days back; daily summary counts', async (t) => {
  const { sim, auth } = await seeded(t);
  const f = await sim.http('GET', `${P}/changes/06.07.2020/file`, undefined, auth);
  t.equal(f.status, 422);
  t.same(f.body.errors[0], { code: 'H501', message: 'Tarih formatı yyyy-aa-gg şeklinde olmalıdır.', location: ['reportDate'], value: '06.07.2020' });
  t.equal((await sim.http('GET', `${P}/agreements/2026-02-24`, undefined, auth)).body.errors[0].code, 'H502');
  const s = await sim.http('GET', `${P}/changes/2026-03-02/recipients/BIREYSEL`, undefined, auth);
  t.equal(s.status, 200);
  const mesaj = s.body.changeStats.find((x: { type: string }) => x.type === 'MESAJ');
  t.same(mesaj.consents, [
    { source: 'HS', approval: 4, rejection: 1, pending: 0, total: 5 },
    { source: 'IYS', approval: 0, rejection: 1, pending: 0, total: 1 },
  ]);
});
