import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { gatewayError, type GatewayError } from '../../errors.ts';
import type { UpstreamConfig } from './upstream-config.ts';

/** Errors raised before any byte of the request left: nothing was sent, the sender may retry. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED',
  // undici refused the request before sending it (an invalid path or header): nothing left
  'UND_ERR_INVALID_ARG']);

/**
 * One upstream: an undici Pool to its origin with explicit timeouts, keep-alive shorter than the
 * provider's (C28) and no automatic retry (undici never retries a non-idempotent request; no
 * RetryAgent is used). `request` maps transport failures to coded errors:
 * - not connected (refused, DNS, pool closed) → 503 GW_ERR_UPSTREAM_UNAVAILABLE, nothing sent;
 * - connect timeout → 504 GW_ERR_UPSTREAM_CONNECT_TIMEOUT, nothing sent;
 * - no response headers in time → 504 GW_ERR_UPSTREAM_TIMEOUT, delivery unknown;
 * - any other failure (socket closed/reset after write, …) → 502 GW_ERR_UPSTREAM_DELIVERY_UNKNOWN.
 * The original error is kept as `cause`.
 */
export class UpstreamClient {
  readonly config: UpstreamConfig;
  readonly #pool: Pool;
  /** Path prefix of the upstream URL, without trailing `/` (`''` for a bare origin). */
  readonly #prefix: string;

  constructor(config: UpstreamConfig) {
    this.config = config;
    const url = new URL(config.url);
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.#pool = new Pool(url.origin, {
      connections: config.connections,
      pipelining: 1,
      connect: { timeout: config.connectTimeoutMs },
      headersTimeout: config.headersTimeoutMs,
      bodyTimeout: config.bodyTimeoutMs,
      keepAliveTimeout: config.keepAliveTimeoutMs,
      keepAliveMaxTimeout: config.keepAliveTimeoutMs,
    });
  }

  /**
   * Sends one request. `path` is the provider's own path and query (`/sms/rest/v2/send?x=1`);
   * a stream body (a rebuilt campaign list) goes with the `content-length` the caller set.
   * @returns undici's response; its `body` must be consumed or destroyed by the caller.
   * @throws GatewayError (see class doc)
   */
  async request(method: string, path: string, headers: Record<string, string | string[]>, body: Buffer | Readable | null): Promise<Dispatcher.ResponseData> {
    try {
      return await this.#pool.request({
        method: method as Dispatcher.HttpMethod,
        path: this.pathFor(path),
        headers,
        body,
        idempotent: false,
      });
    } catch (err) {
      throw this.mapError(err);
    }
  }

  /**
   * Upstream path of a provider path: `<url path><path>`; an empty provider path or `/` alone
   * maps to the URL's own path (`/proxy/hook` and `/proxy/hook/` → `<url>`).
   */
  pathFor(path: string): string {
    const bare = path === '' || path === '/' || path.startsWith('?') || path.startsWith('/?');
    if (bare) return (this.#prefix || '/') + path.slice(path.indexOf('?') === -1 ? path.length : path.indexOf('?'));
    return this.#prefix + path;
  }

  /** Maps a transport error to a coded one (exported for tests of the mapping). */
  mapError(err: unknown): GatewayError {
    const code = (err as { code?: string }).code ?? 'UNKNOWN';
    const name = this.config.name;
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return gatewayError('GW_ERR_UPSTREAM_CONNECT_TIMEOUT', [name, this.config.connectTimeoutMs], { cause: err });
    if (NOT_SENT.has(code)) return gatewayError('GW_ERR_UPSTREAM_UNAVAILABLE', [name, code], { cause: err });
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return gatewayError('GW_ERR_UPSTREAM_TIMEOUT', [name, this.config.headersTimeoutMs], { cause: err });
    if (code === 'UND_ERR_BODY_TIMEOUT') return gatewayError('GW_ERR_UPSTREAM_TIMEOUT', [name, this.config.bodyTimeoutMs], { cause: err });
    return gatewayError('GW_ERR_UPSTREAM_DELIVERY_UNKNOWN', [name, code], { cause: err });
  }

  /** True when a coded upstream error means the request may have reached the provider. */
  static deliveryUnknown(err: GatewayError): boolean {
    return err.code === 'GW_ERR_UPSTREAM_TIMEOUT' || err.code === 'GW_ERR_UPSTREAM_DELIVERY_UNKNOWN';
  }

  async close(): Promise<void> { await this.#pool.close(); }
}
