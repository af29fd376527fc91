import { Cluster } from 'ioredis';
import type { ConsentCache } from './cached-store.ts';
import { quit, waitReady, withTimeout, type RedisClient } from './redis-connection.ts';

/** Options of the invalidation feed (RedisStoreOptions carries them). */
export interface InvalidationFeedOptions {
  /** The store's command client: heartbeats are published through it. */
  client: RedisClient;
  /** Pub/sub channel (`<prefix>inv`); the apply script publishes on it. */
  channel: string;
  /** This store instance's id: its own invalidations and heartbeats are recognised by it. */
  origin: string;
  /** The cache the feed keeps honest. */
  cache: ConsentCache;
  /** Heartbeat interval in ms (≥ 1). */
  heartbeatMs: number;
  /** Bound of connecting and subscribing in ms. */
  connectMs: number;
}

/** First byte of a heartbeat message (an invalidation starts with an origin id: base64url). */
const HEARTBEAT = '\u0001';

/**
 * The invalidation connection of a Redis store with an in-process cache. Messages on the channel:
 * `<origin>\n<field>\n<field>…` from the apply script (other instances' writes: those fields are
 * dropped from the cache; this instance's own writes were dropped before apply() resolved), and
 * `\u0001<origin>:<seq>` heartbeats.
 *
 * End-to-end heartbeat: every `heartbeatMs` the store PUBLISHes a heartbeat through its command
 * client and expects it back on its subscription before the next one. A heartbeat not back within
 * one interval, a publish that fails, or a dropped connection stops the cache (`disable`: no hits,
 * every lookup goes to Redis and fails closed if Redis does) and re-establishes the subscription;
 * the cache serves again, emptied, once the subscription is confirmed. This watches the path
 * invalidations really take — command connection → Redis (→ cluster bus) → subscriber — so a
 * cluster's subscriber node is covered too (a PING on a Cluster client would go to any node). A
 * partitioned or hung Redis stops the cache within two intervals; until then no write can have
 * reached Redis either.
 */
export class InvalidationFeed {
  readonly #o: InvalidationFeedOptions;
  #sub: RedisClient | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #sent = 0;
  #echoed = 0;
  /** Heartbeats seen back, and times the feed was declared lost while serving (tests, metrics). */
  readonly stats = { heartbeats: 0, losses: 0 };

  constructor(opts: InvalidationFeedOptions) {
    this.#o = opts;
  }

  /**
   * Connects the subscriber, subscribes, starts the heartbeat and enables the cache.
   * @throws GW_ERR_STORE_UNAVAILABLE when Redis is not ready or does not confirm within connectMs
   */
  async start(): Promise<void> {
    const sub = this.#sub ?? this.#create();
    await waitReady(sub, this.#o.connectMs);
    await withTimeout(sub.subscribe(this.#o.channel), this.#o.connectMs, 'subscribe');
    this.#up();
  }

  /** Stops the heartbeat, disables the cache and closes the subscriber; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#o.cache.disable();
    await quit(this.#sub);
  }

  #create(): RedisClient {
    const { client } = this.#o;
    const sub = client instanceof Cluster
      ? client.duplicate([], { enableOfflineQueue: true })
      : client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, enableAutoPipelining: false });
    this.#sub = sub;
    sub.on('error', () => {});
    sub.on('message', (_ch: string, msg: string) => this.#onMessage(msg));
    const lost = () => this.#lost();
    sub.on('close', lost);
    sub.on('end', lost);
    sub.on('reconnecting', lost);
    // After every (re)connection: confirm the subscription, then serve from an emptied cache.
    sub.on('ready', () => {
      sub.subscribe(this.#o.channel).then(() => this.#up(), lost);
    });
    this.#timer = setInterval(() => this.#tick(), this.#o.heartbeatMs);
    this.#timer.unref();
    return sub;
  }

  #onMessage(msg: string): void {
    const { origin, cache } = this.#o;
    if (msg.startsWith(HEARTBEAT)) {
      const colon = msg.lastIndexOf(':');
      if (msg.slice(1, colon) === origin) {
        const seq = Number(msg.slice(colon + 1));
        if (seq > this.#echoed) { this.#echoed = seq; this.stats.heartbeats++; }
        // the whole path works again (e.g. the command connection came back): serve again
        if (!cache.isEnabled && !this.#closed) cache.enable();
      }
      return;
    }
    const lines = msg.split('\n');
    // our own writes were invalidated locally before apply() resolved
    if (lines[0] !== origin) cache.invalidate(lines.slice(1));
  }

  /** Subscription confirmed: serve, unless the command connection is down (then the next echoed heartbeat enables). */
  #up(): void {
    if (this.#closed) return;
    this.#echoed = this.#sent; // nothing outstanding from before the (re)subscription
    if (this.#o.client.status === 'ready') this.#o.cache.enable();
  }

  #lost(): void {
    if (this.#o.cache.isEnabled) this.stats.losses++;
    this.#o.cache.disable();
  }

  #tick(): void {
    const sub = this.#sub;
    if (this.#closed || !sub || sub.status !== 'ready') return;
    if (this.#echoed < this.#sent) {
      // the last heartbeat did not come back within an interval: stop serving, resubscribe
      this.#lost();
      this.#echoed = this.#sent;
      sub.disconnect(true);
      return;
    }
    const seq = ++this.#sent;
    this.#o.client.publish(this.#o.channel, `${HEARTBEAT}${this.#o.origin}:${seq}`).catch(() => { /* not echoed: lost at the next tick */ });
  }
}
