// Issue 10 item 9, found by review with a brand-A key against brand-B data: GET /v1/outbox listed
// brand B's items (recipients included), /v1/sync/status every brand, POST /v1/sync/reconcile ran
// B's reconciliation, GET /v1/iys/uploads/<B's job> and its report answered, and a pass-through
// path of B's upstream was forwarded for A's key.
//
// The walk below takes EVERY operation of GET /openapi.json (so a route added later is walked too,
// and a route left out of the document fails the first test) and calls it with A's key, B's
// brandCode, B's resources and B's upstream. Each answer must be a 403, or carry nothing of B's
// (recipient, ids, brandCode); afterwards B's data is unchanged and B's upstream received nothing.
import t from 'tap';
import tap from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeGateway } from '../helpers/gateway.ts';
import { startStub } from '../transports/harness.ts';

const A = 700001;
const B = 700002;
const KEY_A = 'brand-a-key-0123456789abcdef';
const KEY_B = 'brand-b-key-0123456789abcdef';
const RA = '+905321230001';
const RB = '+905321230002';
const JOB_B = '6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f';
const JOB_A = '0a1b2c3d-4e5f-4a6b-8c7d-6f1c2d3e4b5a';

type Doc = { paths: Record<string, Record<string, Operation>> };
interface Operation {
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
  requestBody?: { content: Record<string, { schema?: Schema }> };
}
interface Schema { type?: string | string[]; enum?: unknown[]; properties?: Record<string, Schema>; required?: string[]; items?: Schema; pattern?: string; format?: string; minimum?: number }

async function setup(t: { teardown(fn: () => unknown): void; equal: typeof tap.equal; match: typeof tap.match }) {
  const stub = await startStub(t);
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-brands-'));
  // an upload job of each brand, finished, with its per-line report (what POST /v1/iys/uploads leaves)
  mkdirSync(join(dataDir, 'uploads'), { recursive: true });
  for (const [id, brandCode, r] of [[JOB_A, A, RA], [JOB_B, B, RB]] as const) {
    writeFileSync(join(dataDir, 'uploads', `${id}.job.json`), JSON.stringify({ id, brandCode, state: 'done', createdAt: '2026-11-29T07:00:00.000Z', progress: { validated: 1, sent: 1, confirmed: 1, total: 1 } }));
    writeFileSync(join(dataDir, 'uploads', `${id}.report.csv`), `line,recipient,result\n2,${r},tx-${brandCode}\n`);
  }
  const gw = await makeGateway(t, {
    dataDir, mirrorMaxAgeMs: 0,
    apiKeys: [{ name: 'brand-a', key: KEY_A, brands: [A], scopes: '*' }, { name: 'brand-b', key: KEY_B, brands: [B], scopes: '*' }],
    // İYS unreachable and never contacted: every loop off (a refused request must not get that far)
    iys: { baseUrl: 'http://127.0.0.1:9', iysCode: A, username: 'u', password: 'p', brands: [A, B], pullIntervalMs: 0, uploadIntervalMs: 0, reconcileDaily: false, push: { username: 'iys-push', password: 'push-secret-0123' } },
    upstreams: [
      { name: 'up-a', adapter: 'webhook', url: stub.url, brandCode: A },
      { name: 'up-b', adapter: 'webhook', url: stub.url, brandCode: B, passThroughPaths: ['/balance'] },
    ],
  });
  const as = (key: string) => ({ authorization: `Bearer ${key}`, 'x-iys-gate-key': key });
  // each brand's own data: a refusal (mirror record + outbox item), a reconciliation report, a removal report
  for (const [key, brandCode, r] of [[KEY_A, A, RA], [KEY_B, B, RB]] as const) {
    const rej = await gw.call('POST', '/v1/rejections', { brandCode, recipient: r, type: 'MESAJ' }, as(key));
    t.equal(rej.status, 201, `seed: brand ${brandCode} refusal`);
    gw.app.iys.reconciliations.set(brandCode, { brandCode, reportDate: '2026-11-28', status: 'differences', rows: 1, missingApplied: 0, differences: [{ recipient: r }] } as never);
  }
  // a decision of B in the decision log (its id is B's resource for /v1/decisions/{id})
  const checkB = await gw.call('POST', '/v1/check', { brandCode: B, recipient: RB, type: 'MESAJ' }, as(KEY_B));
  const decisionB = String(checkB.body.decisionId ?? '');
  t.match(decisionB, /^[0-9a-f]{8}-[0-9a-z]+$/, 'seed: B has a decision');
  const sent = await gw.app.inject({ method: 'POST', url: '/proxy/up-b', headers: { ...as(KEY_B), 'content-type': 'application/json' }, payload: { type: 'MESAJ', recipients: [RB], message: 'hello' } });
  t.equal(sent.statusCode, 422, 'seed: B\'s only recipient refused, not sent');
  const reportB = sent.json().reportId as string;
  t.match(reportB, /^[0-9a-f-]{36}$/, 'seed: B has a removal report');
  t.equal(stub.requests.length, 0, 'seed: nothing reached an upstream');
  return { gw, stub, reportB, decisionB, as };
}

/** A value for a field the walk must fill: B's brand, B's recipient, the schema's first enum value … */
function sample(name: string, s: Schema | undefined): unknown {
  if (name === 'brandCode') return B;
  if (name === 'recipient') return RB;
  if (name === 'upstream') return 'up-b';
  if (s?.enum?.length) return s.enum.find((v) => v !== null);
  const type = Array.isArray(s?.type) ? s.type.find((x) => x !== 'null') : s?.type;
  if (type === 'array') return [sample(name.replace(/s$/, ''), s?.items)];
  if (type === 'integer' || type === 'number') return s?.minimum ?? 1;
  if (type === 'boolean') return name === 'confirm';
  if (type === 'object') return fill(s);
  if (s?.pattern?.includes(':')) return '2026-11-28 10:00:00';
  if (s?.pattern) return '2026-11-28';
  if (s?.format === 'date-time') return '2026-11-28T07:00:00.000Z';
  return 'x';
}
function fill(s: Schema | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s?.properties ?? {})) if (k === 'brandCode' || s?.required?.includes(k)) out[k] = sample(k, v);
  return out;
}

/** B's data in an answer: its recipient (any spelling), ids, or a `brandCode` of B. */
function leaksB(body: string, reportB: string): string | null {
  if (body.includes(RB.slice(3))) return 'B\'s recipient';
  if (body.includes(JOB_B)) return 'B\'s upload job';
  if (body.includes(reportB)) return 'B\'s removal report';
  if (body.includes('tx-700002')) return 'B\'s upload report';
  if (new RegExp(`"brandCode"\\s*:\\s*${B}\\b`).test(body)) return 'a brandCode of B';
  return null;
}

t.test('every route the gateway serves is in /openapi.json (the walk sees new routes)', async (t) => {
  const { gw } = await setup(t);
  const doc = (await gw.call('GET', '/openapi.json')).body as Doc;
  const served = gw.app.printRoutes({ commonPrefix: false });
  // printRoutes lists each route as `/path (METHODS)`, nested ones relative to their parent
  const lines = served.split('\n').filter((l) => l.includes('('));
  t.ok(lines.length >= 20, `routes found (${lines.length})`);
  const documented = new Set(Object.keys(doc.paths).map((p) => p.replace(/\{[^}]+\}/g, ':x')));
  const stack: string[] = [];
  for (const l of lines) {
    const depth = (l.search(/[├└]/) / 4) | 0;
    const seg = l.replace(/^[│ ]*[├└]── /, '').replace(/ \(.*$/, '');
    stack.length = depth;
    stack.push(seg);
    const full = stack.join('').replace(/:[^/]+/g, ':x').replace(/\/\*$/, '/:x');
    t.ok(documented.has(full), `${full} is documented`);
  }
  for (const p of ['/proxy/{upstream}', '/proxy/{upstream}/{path}', '/proxy/_reports/{id}', '/v1/iys/push', '/healthz', '/readyz', '/metrics', '/v1/iys/uploads/{id}', '/v1/iys/uploads/{id}/report', '/v1/sync/status', '/v1/sync/reconcile']) {
    t.ok(doc.paths[p], `${p} documented`);
  }
});

t.test('a brand-A key walks every documented operation against brand B: 403 or nothing of B', async (t) => {
  const { gw, stub, reportB, decisionB, as } = await setup(t);
  const doc = (await gw.call('GET', '/openapi.json')).body as Doc;
  let walked = 0;
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const url = path
        .replace('{upstream}', 'up-b').replace('{path}', 'balance')
        .replace('{id}', path.startsWith('/proxy/_reports') ? reportB : path.startsWith('/v1/decisions') ? decisionB : JOB_B)
        .replace('{index}', '0')
        .replace(/\{[^}]+\}/g, 'x');
      const query = new URLSearchParams();
      for (const p of op.parameters ?? []) if (p.in === 'query' && (p.required || p.name === 'brandCode' || p.name === 'upstream')) query.set(p.name, String(sample(p.name, p.schema)));
      const types = Object.keys(op.requestBody?.content ?? {});
      let csv = types.length > 0 && !types.includes('application/json');
      const json = method === 'get' || method === 'head' ? undefined
        : JSON.stringify({ ...fill(op.requestBody?.content['application/json']?.schema), brandCode: B });
      const send = () => {
        const payload = csv ? `recipient\n${RB}\n` : json;
        return gw.app.inject({
          method: method.toUpperCase() as 'GET', url: url + (query.size ? `?${query}` : ''),
          headers: { ...as(KEY_A), ...(payload === undefined ? {} : { 'content-type': csv ? 'text/csv' : 'application/json' }) },
          ...(payload === undefined ? {} : { payload }),
        });
      };
      let res = await send();
      // a streamed CSV route (its body is not a JSON Schema, so the document names no type): as CSV
      if (res.statusCode === 415 && !csv) { csv = true; res = await send(); }
      const payload = csv ? 'csv' : json;
      walked++;
      const what = `${method.toUpperCase()} ${url}${query.size ? `?${query}` : ''} → ${res.statusCode}`;
      // an operation aimed at B (its brandCode, a resource id of B, B's upstream) is refused outright:
      // 403 for API keys, 401 on the routes İYS calls with its own Basic credentials (push)
      const basicOnly = (op as { security?: Array<Record<string, unknown>> }).security?.some((x) => 'basic' in x) ?? false;
      // a public operation (security: [], e.g. POST /u/{token}: the token is the credential) takes no key: not refused for it, must leak nothing
      const isPublic = Array.isArray((op as { security?: unknown[] }).security) && (op as { security: unknown[] }).security.length === 0;
      const aimedAtB = /\{(id|upstream)\}/.test(path) || query.has('brandCode') || query.has('upstream') || payload !== undefined && !csv && !isPublic;
      if (aimedAtB || csv) {
        t.equal(res.statusCode, basicOnly ? 401 : 403, `${what}: refused`);
        if (method !== 'head') t.equal(res.json().code, basicOnly ? 'GW_ERR_UNAUTHORIZED' : 'GW_ERR_FORBIDDEN', what);
        continue;
      }
      // anything else answers without B's data (filtered listings, operations routes)
      t.equal(leaksB(res.body, reportB), null, `${what}: nothing of brand B in the answer`);
      t.ok(res.statusCode < 500, what);
    }
  }
  t.ok(walked >= 25, `walked ${walked} operations`);
  t.equal(stub.requests.length, 0, 'B\'s upstream received nothing for A\'s key');
  // B's data is as it was: its refusal stands, its outbox item is the only one of B
  const check = await gw.call('POST', '/v1/check', { brandCode: B, recipient: RB, type: 'MESAJ' }, as(KEY_B));
  t.equal(check.body.reason, 'CONSENT_RET');
  const outB = await gw.call('GET', '/v1/outbox', undefined, as(KEY_B));
  t.same(outB.body.items.map((i: { brandCode: number; consent: { recipient: string } }) => [i.brandCode, i.consent.recipient]), [[B, RB]]);
});

t.test('the reported triggers, one by one, with A\'s own data still visible', async (t) => {
  const { gw, stub, reportB, as } = await setup(t);
  const outbox = await gw.call('GET', '/v1/outbox', undefined, as(KEY_A));
  t.equal(outbox.status, 200);
  t.same(outbox.body.items.map((i: { brandCode: number; consent: { recipient: string } }) => [i.brandCode, i.consent.recipient]), [[A, RA]], 'only A\'s item');
  t.equal(outbox.body.summary.pending, 1, 'the summary counts A\'s items only');
  const all = await gw.call('GET', '/v1/outbox');
  t.equal(all.body.items.length, 2, 'a key of every brand sees both');

  const status = await gw.call('GET', '/v1/sync/status', undefined, as(KEY_A));
  t.same(status.body.brands.map((b: { brandCode: number }) => b.brandCode), [A]);
  t.same(Object.keys(status.body.reconciliations), [String(A)]);
  t.equal(status.body.outbox.pending, 1);
  t.same((await gw.call('GET', '/v1/sync/status')).body.brands.map((b: { brandCode: number }) => b.brandCode), [A, B]);

  for (const confirm of [false, true]) {
    const rec = await gw.app.inject({ method: 'POST', url: `/v1/sync/reconcile?brandCode=${B}&reportDate=2026-11-28&confirm=${confirm}`, headers: as(KEY_A) });
    t.equal(rec.statusCode, 403, `reconcile B (confirm=${confirm})`);
    t.equal(rec.json().field, 'brandCode');
  }

  t.equal((await gw.call('GET', `/v1/iys/uploads/${JOB_B}`, undefined, as(KEY_A))).status, 403);
  t.equal((await gw.call('GET', `/v1/iys/uploads/${JOB_B}/report`, undefined, as(KEY_A))).status, 403);
  const own = await gw.call('GET', `/v1/iys/uploads/${JOB_A}`, undefined, as(KEY_A));
  t.equal(own.status, 200);
  t.equal(own.body.brandCode, A);
  const ownReport = await gw.call('GET', `/v1/iys/uploads/${JOB_A}/report`, undefined, as(KEY_A));
  t.match(ownReport.body, /tx-700001/);

  for (const method of ['GET', 'POST', 'HEAD', 'DELETE'] as const) {
    const pass = await gw.app.inject({ method, url: '/proxy/up-b/balance', headers: { 'x-iys-gate-key': KEY_A } });
    t.equal(pass.statusCode, 403, `${method} pass-through of B's upstream`);
  }
  const send = await gw.app.inject({ method: 'POST', url: '/proxy/up-b', headers: { 'x-iys-gate-key': KEY_A, 'content-type': 'application/json' }, payload: { brandCode: A, type: 'MESAJ', recipients: [RA], message: 'hi' } });
  t.equal(send.statusCode, 403, 'B\'s upstream does not send A\'s message either');
  t.equal((await gw.call('POST', '/v1/send?upstream=up-b', { brandCode: A, type: 'MESAJ', recipients: [RA], message: 'hi' }, as(KEY_A))).status, 403);
  t.equal((await gw.app.inject({ method: 'GET', url: `/proxy/_reports/${reportB}`, headers: { 'x-iys-gate-key': KEY_A } })).statusCode, 403);
  t.equal(stub.requests.length, 0, 'nothing reached an upstream');
  const passB = await gw.app.inject({ method: 'GET', url: '/proxy/up-b/balance', headers: { 'x-iys-gate-key': KEY_B } });
  t.equal(passB.statusCode, 200, 'B\'s own key still passes through');
  t.equal(stub.requests.length, 1);
});
