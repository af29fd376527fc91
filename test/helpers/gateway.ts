import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp, loggerOptions } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { GatewayConfigInput } from '../../src/config/schema.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { KeyRing } from '../../src/plugins/api-keys.ts';

export const TEST_KEY = 'test-key-0123456789abcdef';

/** A gateway built on a fresh embedded store in a temp dir; logs captured in `logs`. */
export async function makeGateway(t: { teardown(fn: () => unknown): void }, overrides: GatewayConfigInput = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-test-'));
  const config = loadConfig({ env: { IYS_GATE_API_KEY: TEST_KEY }, overrides: { dataDir, logLevel: 'info', ...overrides } });
  const store = new MemoryStore({ dataDir: join(dataDir, 'mirror') });
  await store.open();
  const logs: string[] = [];
  const stream = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
  const app: FastifyInstance = await buildApp(config, { store, keys: new KeyRing(config), logger: loggerOptions(config, stream) });
  t.teardown(async () => { await app.close(); await store.close(); rmSync(dataDir, { recursive: true, force: true }); });
  const call = async (method: 'GET' | 'POST', url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.inject({
      method, url,
      headers: { authorization: `Bearer ${TEST_KEY}`, ...(typeof body === 'string' ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience: bodies are asserted field by field
    try { json = res.json(); } catch { json = res.body; }
    return { status: res.statusCode, body: json, headers: res.headers };
  };
  return { app, store, config, dataDir, logs, call };
}

/** Rows → İYS daily movement file CSV (same as ../shared/tools/contract-check.mjs). */
export function toDailyCsv(rows: Array<Record<string, unknown>>): string {
  const head = 'creationDate,transactionId,recipient,recipientType,type,status,consentDate,source';
  return [head, ...rows.map((r, i) => [r.creationDate ?? r.consentDate, r.transactionId ?? `tx${i}`, r.recipient, r.recipientType, r.type, r.status, r.consentDate ?? '', r.source ?? ''].join(','))].join('\n') + '\n';
}
