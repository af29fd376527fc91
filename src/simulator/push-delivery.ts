/**
 * Push delivery (iys-reference.md §2.8): İYS POSTs `{list:[…]}` of `IYS_*` movements to every
 * registered URL of the brand and type, with HTTP Basic auth and a 5 s timeout. One attempt per
 * movement and URL (İYS documents no retry policy); every attempt is recorded for `/_sim/`.
 */
import { Agent, request } from 'undici';
import type { SimContext } from './context.ts';
import type { SimMovement, SimPushRegistration } from './state.ts';

/** The fixed test item İYS sends on registration. */
export const PUSH_TEST_ITEM = {
  iysCode: 121212, brandCode: 121212, consentDate: '2020-01-01 00:00:00', creationDate: '2020-01-01 00:00:00',
  source: 'IYS_MOBIL', recipient: 'pushtest@iys.org.tr', recipientType: 'BIREYSEL', status: 'ONAY', type: 'EPOSTA',
  transactionId: '0'.repeat(64),
};

/** Outcome of one POST to a receiver. */
export type PushOutcome = { ok: true; status: number } | { ok: false; status: number | null; error: 'timeout' | 'connection' | 'status' };

/** Sends push payloads over undici with the configured timeout and TLS policy. */
export class PushDelivery {
  private readonly agent: Agent;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly ctx: SimContext) {
    this.agent = new Agent({ connect: { rejectUnauthorized: ctx.config.pushVerifyTls } });
  }

  /**
   * POSTs `list` to one receiver.
   * @returns ok for any 2xx; otherwise `timeout` (no answer within pushTimeoutMs), `connection`
   *   or `status` (non-2xx)
   */
  async post(reg: Pick<SimPushRegistration, 'url' | 'username' | 'password'>, list: object[]): Promise<PushOutcome> {
    try {
      const res = await request(reg.url, {
        method: 'POST', dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${reg.username}:${reg.password}`).toString('base64')}`,
        },
        body: JSON.stringify({ list }),
        signal: AbortSignal.timeout(this.ctx.config.pushTimeoutMs),
      });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300 ? { ok: true, status: res.statusCode } : { ok: false, status: res.statusCode, error: 'status' };
    } catch (e) {
      const name = (e as Error).name;
      return { ok: false, status: null, error: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'connection' };
    }
  }

  /** Delivers one IYS_* movement to the brand's receivers of its type (fire and forget). */
  deliver(m: SimMovement): void {
    const regs = this.ctx.state.pushRegistrations.filter((r) => r.iysCode === m.iysCode && r.brandCode === m.brandCode && r.type === m.type);
    for (const reg of regs) {
      const item = {
        iysCode: m.iysCode, brandCode: m.brandCode, ...(m.consentDate !== null ? { consentDate: m.consentDate } : {}),
        creationDate: m.creationDate, source: m.source, recipient: m.recipient, recipientType: m.recipientType,
        status: m.status, type: m.type, transactionId: m.transactionId,
      };
      const p = this.post(reg, [item]).then((o) => {
        this.ctx.state.pushDeliveries.push({
          url: reg.url, brandCode: m.brandCode, transactionIds: [m.transactionId], ok: o.ok, status: o.status,
          error: o.ok ? null : o.error, atMs: this.ctx.clock.nowMs(),
        });
      });
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }
  }

  /** Resolves when every delivery in flight has finished. */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  close(): void {
    void this.agent.close();
  }
}
