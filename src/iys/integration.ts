import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { GatewayConfig } from '../config/schema.ts';
import type { ConsentStore } from '../mirror/consent-store.ts';
import { IysClient } from './client.ts';
import { Outbox } from './outbox.ts';
import { SyncWorker } from './sync.ts';
import { Uploader } from './uploader.ts';

/**
 * Everything that connects the gateway to İYS: the durable outbox (always; without an İYS account
 * its items wait and their deadlines stay visible), and — when `iys` is configured — the client,
 * one pull SyncWorker per brand and the Uploader, each on its own timer.
 */
export class IysIntegration {
  readonly outbox: Outbox;
  readonly client: IysClient | null = null;
  readonly sync = new Map<number, SyncWorker>();
  readonly uploader: Uploader | null = null;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #config: GatewayConfig;

  constructor(opts: { config: GatewayConfig; store: ConsentStore; log: FastifyBaseLogger; onFresh: (atMs: number) => void; now?: () => number }) {
    const { config, store, log } = opts;
    this.#config = config;
    this.outbox = new Outbox({ dir: join(config.dataDir, 'outbox'), ...(opts.now ? { now: opts.now } : {}) });
    const iys = config.iys;
    if (!iys) return;
    this.client = new IysClient({
      baseUrl: iys.baseUrl, iysCode: iys.iysCode, username: iys.username, password: iys.password,
      timeoutMs: iys.requestTimeoutMs, ...(opts.now ? { now: opts.now } : {}),
    });
    // The mirror is fresh when every brand's last complete pull (or push) is recent.
    const freshOf = () => {
      let min = Infinity;
      for (const w of this.sync.values()) {
        const s = w.status();
        min = Math.min(min, Math.max(s.lastPullAt ?? 0, 0));
      }
      if (Number.isFinite(min) && min > 0) opts.onFresh(min);
    };
    for (const brandCode of iys.brands) {
      this.sync.set(brandCode, new SyncWorker({ brandCode, client: this.client, store, log, onFresh: freshOf, ...(opts.now ? { now: opts.now } : {}) }));
    }
    this.uploader = new Uploader({
      outbox: this.outbox, client: this.client, store, log, pollAfterMs: iys.batchPollAfterMs, retryBaseMs: iys.uploadRetryBaseMs, ...(opts.now ? { now: opts.now } : {}),
    });
  }

  /** Opens the outbox and loads sync state. */
  async open(): Promise<void> {
    await this.outbox.open();
    for (const w of this.sync.values()) await w.load();
  }

  /** Starts the pull and upload timers (first runs at once). */
  start(): void {
    const iys = this.#config.iys;
    if (!iys) return;
    const every = (ms: number, fn: () => Promise<void>) => {
      if (ms <= 0) return;
      void fn();
      const t = setInterval(() => { void fn(); }, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(iys.pullIntervalMs, () => this.pullAll());
    every(iys.uploadIntervalMs, () => this.uploader!.tick());
  }

  /** One pull cycle for every brand. */
  async pullAll(): Promise<void> {
    await Promise.all([...this.sync.values()].map((w) => w.pull()));
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
    await this.outbox.close();
  }
}
