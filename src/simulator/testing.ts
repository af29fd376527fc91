/**
 * Helpers for tests and demos that drive a running simulator over real sockets: start one on
 * 127.0.0.1 port 0 and call its admin API. Used by test/simulator/**, test/iys/** and the
 * regression tests; other modules (sync, outbox) may use them too.
 */
import { request } from 'undici';
import { DEMO_ACCOUNT, type SimulatorOptions } from './config.ts';
import { startSimulator, type Simulator, type SimulatorDeps } from './index.ts';

/** A started simulator plus a small admin/İYS HTTP helper. */
export interface TestSimulator extends Simulator {
  url: string;
  /**
   * JSON call to the simulator; returns status, parsed body (or text) and headers. `body` is `any`
   * on purpose: tests read whichever İYS shape the call returns, field by field.
   */
  http(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string; headers: Record<string, unknown> }>;
  /** Password-grant access token of the demo account (or `username`/`password`). */
  token(username?: string, password?: string): Promise<string>;
  /** Moves the simulator clock forward by `ms`. */
  advance(ms: number): Promise<void>;
  /** The simulator's now as İYS's `YYYY-MM-DD HH:mm:ss`, shifted by `offsetMs`. */
  iysNow(offsetMs?: number): string;
  close(): Promise<void>;
}

/** Demo credentials and codes (config.ts {@link DEMO_ACCOUNT}). */
export const DEMO = {
  username: DEMO_ACCOUNT.username, password: DEMO_ACCOUNT.password, iysCode: DEMO_ACCOUNT.iysCode,
  brandCode: DEMO_ACCOUNT.brands[0]!.brandCode, subBrandCode: DEMO_ACCOUNT.brands[1]!.brandCode,
  retailerCode: DEMO_ACCOUNT.retailers[0]!,
} as const;

/**
 * Starts a simulator on 127.0.0.1:0 with test-friendly defaults (no per-second limit unless
 * given, batch delay 300 s on the simulated clock). Register `close` as teardown right after.
 */
export async function startTestSimulator(opts: SimulatorOptions = {}, deps: SimulatorDeps = {}): Promise<TestSimulator> {
  const sim = await startSimulator({ port: 0, host: '127.0.0.1', perSecondLimit: 0, ...opts }, deps);
  const http: TestSimulator['http'] = async (method, path, body, headers = {}) => {
    const res = await request(sim.url + path, {
      method: method as 'GET',
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.statusCode, body: parsed, text, headers: res.headers };
  };
  return {
    ...sim,
    http,
    async token(username = DEMO.username, password = DEMO.password) {
      const r = await http('POST', '/oauth2/token', { grant_type: 'password', username, password });
      if (r.status !== 200) throw new Error(`token: ${r.status} ${r.text}`);
      return r.body.access_token as string;
    },
    async advance(ms) {
      sim.ctx.clock.advance(ms);
      sim.ctx.processDueBatches();
    },
    iysNow(offsetMs = 0) {
      const d = new Date(sim.ctx.clock.nowMs() + offsetMs + 3 * 3_600_000);
      return d.toISOString().slice(0, 19).replace('T', ' ');
    },
    close: () => sim.app.close(),
  };
}

/**
 * An İYS client on the simulator's clock, for tests and benchmarks: its own token broker and an
 * unlimited rate budget (pass `perSecond` to keep İYS's limit), the demo account.
 * @returns the client and the clock it uses (epoch ms)
 */
export async function simulatorClient(sim: TestSimulator | (Simulator & { url: string }), opts: { perSecond?: number; retryBaseMs?: number } = {}) {
  const { IysClient } = await import('../iys/client.ts');
  const { RateBudget } = await import('../iys/rate-budget.ts');
  const { TokenBroker } = await import('../iys/token-broker.ts');
  const now = () => sim.ctx.clock.nowMs();
  const budget = new RateBudget({ perSecond: opts.perSecond ?? 0 });
  const broker = new TokenBroker({ baseUrl: sim.url, username: DEMO.username, password: DEMO.password, budget, now });
  const client = new IysClient({
    baseUrl: sim.url, iysCode: DEMO.iysCode, username: DEMO.username, password: DEMO.password, budget, broker, now,
    ...(opts.retryBaseMs !== undefined ? { retryBaseMs: opts.retryBaseMs } : {}),
  });
  return { client, now, budget, broker };
}
