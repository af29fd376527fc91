import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ERROR_DEFINITIONS, type ErrorCode } from '../errors.ts';

/** Time bounds of the phases of one HTTP request (config keys of the same names). */
export interface RequestBoundsOptions {
  /** Request line + headers must arrive within this many ms of the request's first byte (Node's headersTimeout). */
  headersTimeoutMs: number;
  /** A body that receives no byte for this many ms while the gateway waits for it is cut (408). 0 = off. */
  bodyIdleTimeoutMs: number;
  /**
   * A non-streaming request's body must be fully received within this many ms of its headers
   * (408). Streaming routes (`markStreaming`) are exempt: they stream for minutes and are bounded by
   * `bodyIdleTimeoutMs`. 0 = off.
   */
  requestTimeoutMs: number;
  /** Idle keep-alive socket lifetime (ms) between requests. */
  keepAliveTimeoutMs: number;
}

const kRes = Symbol('iysgate.res');
const kStart = Symbol('iysgate.start');
const kBytes = Symbol('iysgate.bytes');
const kProgress = Symbol('iysgate.progress');
const kStreaming = Symbol('iysgate.streaming');

interface TrackedSocket extends Socket {
  [kRes]?: ServerResponse;
  [kStart]?: number;
  [kBytes]?: number;
  [kProgress]?: number;
}

/**
 * Marks a request as streaming (CSV import, upload, scrub): exempt from `requestTimeoutMs`, still
 * bounded by `bodyIdleTimeoutMs`.
 */
export function markStreaming(req: IncomingMessage): void {
  (req as IncomingMessage & { [kStreaming]?: true })[kStreaming] = true;
}

/** The coded JSON error body of `code` (same shape as every other error). */
export function codedErrorBody(code: ErrorCode, statusText: string): string {
  const def = ERROR_DEFINITIONS[code];
  return JSON.stringify({ statusCode: def.status, code, error: statusText, message: def.message });
}

/** Answers `res` (headers not sent yet) with a coded error and `Connection: close`, else cuts the socket. */
function answerAndClose(res: ServerResponse, socket: Socket, code: ErrorCode, statusText: string): void {
  // Once answered, Node no longer aborts the request when its socket closes: its body stream would
  // never end nor fail, and a streaming handler reading it would wait forever. (A body fastify
  // itself was reading is left alone: nothing waits on it, and failing it would only log that the
  // reply was already sent.)
  const req = res.req;
  if ((req as IncomingMessage & { [kStreaming]?: true })[kStreaming]) {
    socket.once('close', () => {
      if (!req.complete && !req.destroyed) req.destroy(Object.assign(new Error(`request cut: ${code}`), { code }));
    });
  }
  if (!res.headersSent && !res.writableEnded && !socket.destroyed) {
    const body = codedErrorBody(code, statusText);
    res.writeHead(ERROR_DEFINITIONS[code].status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
    // the peer may keep trickling: the socket goes once our answer is flushed
    socket.destroySoon();
    return;
  }
  socket.destroy();
}

/**
 * Bounds every phase of an HTTP/1 request and drains connections at shutdown (issue 12 items 5
 * and 6, C45). Cost on the hot path: two property writes and a clock read per request; the bounds are enforced by
 * one unref'd sweep every `sweepMs` over the open sockets, so each bound holds within
 * `sweepMs` (≤ 1/10 of the smallest bound, at most 1 s).
 *
 * - headers: Node's own `headersTimeout`, checked every `sweepMs` (Node's default check every
 *   30 s let a 60 s bound run to 90 s); answered 408 GW_ERR_REQUEST_TIMEOUT by app.ts' clientError.
 * - body idle: the socket's `bytesRead` did not move for `bodyIdleTimeoutMs` while its request is
 *   incomplete and the gateway is not itself holding the socket back (back-pressure pauses it).
 * - whole request: a non-streaming request's body not complete `requestTimeoutMs` after its headers.
 * A cut request is answered 408 with `Connection: close` (when nothing was sent yet) and its socket closed.
 */
export class RequestBounds {
  readonly server: http.Server;
  readonly sweepMs: number;
  readonly #opts: RequestBoundsOptions;
  readonly #sockets = new Set<TrackedSocket>();
  #timer: NodeJS.Timeout | null = null;
  #draining = false;
  /** Requests cut by a bound, by reason (for logs and tests). */
  readonly cuts = { bodyIdle: 0, request: 0 };

  /**
   * @param handler fastify's request handler (serverFactory)
   */
  constructor(opts: RequestBoundsOptions, handler: (req: IncomingMessage, res: ServerResponse) => void) {
    this.#opts = opts;
    const bounds = [opts.headersTimeoutMs, opts.bodyIdleTimeoutMs, opts.requestTimeoutMs].filter((b) => b > 0);
    this.sweepMs = Math.max(10, Math.min(1000, Math.floor(Math.min(...bounds, 10_000) / 10)));
    this.server = http.createServer({
      headersTimeout: opts.headersTimeoutMs,
      // Node's own whole-request timeout would cut streaming imports; ours exempts them
      requestTimeout: 0,
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      connectionsCheckingInterval: this.sweepMs,
    }, (req, res) => {
      const s = req.socket as TrackedSocket;
      s[kRes] = res;
      s[kStart] = performance.now();
      if (this.#draining && !res.headersSent) res.setHeader('connection', 'close');
      handler(req, res);
    });
    this.server.on('connection', (s: TrackedSocket) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    this.server.on('listening', () => {
      if (this.#timer) return;
      this.#timer = setInterval(() => this.#sweep(), this.sweepMs);
      this.#timer.unref();
    });
    this.server.on('close', () => { if (this.#timer) clearInterval(this.#timer); this.#timer = null; });
  }

  #handlers = 0;
  #handlersIdle: (() => void) | null = null;

  /**
   * Wraps a route handler so `settled()` can wait for it: a handler that writes must finish before
   * the store closes at shutdown (an apply after close would not be durable).
   */
  trackHandler<F extends (this: never, ...args: never[]) => unknown>(fn: F): F {
    const bounds = this;
    const done = () => { if (--bounds.#handlers === 0 && bounds.#handlersIdle) bounds.#handlersIdle(); };
    return function (this: unknown, ...args: unknown[]) {
      bounds.#handlers++;
      let out: unknown;
      try { out = (fn as unknown as (...a: unknown[]) => unknown).apply(this, args); } catch (err) { done(); throw err; }
      if (out && typeof (out as Promise<unknown>).then === 'function') {
        (out as Promise<unknown>).then(done, done);
      } else done();
      return out;
    } as unknown as F;
  }

  /** Resolves once no tracked handler runs, or after `ms`; true when they all settled. */
  async settled(ms: number): Promise<boolean> {
    if (this.#handlers === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((r) => { this.#handlersIdle = () => r(true); });
    const late = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), Math.max(0, ms)); });
    const ok = await Promise.race([idle, late]);
    clearTimeout(timer);
    return ok;
  }

  /** Open connections (tests, logs). */
  get connections(): number { return this.#sockets.size; }

  #sweep(): void {
    const now = performance.now();
    const { bodyIdleTimeoutMs: idle, requestTimeoutMs: whole } = this.#opts;
    for (const s of this.#sockets) {
      const res = s[kRes];
      if (!res || res.writableFinished || s.destroyed) continue;
      const req = res.req;
      if (req.complete) continue; // the gateway is working on it, not waiting for the client
      const start = s[kStart] ?? now;
      if (whole > 0 && now - start > whole && !(req as IncomingMessage & { [kStreaming]?: true })[kStreaming]) {
        this.cuts.request++;
        answerAndClose(res, s, 'GW_ERR_REQUEST_TIMEOUT', 'Request Timeout');
        continue;
      }
      if (idle <= 0) continue;
      const bytes = s.bytesRead;
      if (s[kBytes] !== bytes || s.isPaused() || (s[kProgress] ?? 0) < start) {
        s[kBytes] = bytes;
        s[kProgress] = now;
      } else if (now - s[kProgress]! > idle) {
        this.cuts.bodyIdle++;
        answerAndClose(res, s, 'GW_ERR_REQUEST_TIMEOUT', 'Request Timeout');
      }
    }
  }

  /**
   * Shutdown (C45): stops accepting, closes idle sockets at once, makes every answer still to come
   * say `Connection: close` (its socket closes after it), and waits for in-flight requests up to
   * `drainMs`; what is still open then is answered 503 GW_ERR_SHUTTING_DOWN (nothing sent yet) or
   * cut. Resolves once every connection is closed.
   * @returns how many requests were answered during the drain and how many were cut
   */
  async drain(drainMs: number): Promise<{ waited: number; cut: number }> {
    this.#draining = true;
    this.server.close();
    const deadline = performance.now() + drainMs;
    const inFlight = new Set<TrackedSocket>();
    for (;;) {
      for (const s of this.#sockets) {
        const res = s[kRes];
        if (!res || res.writableFinished) { s.destroy(); continue; } // idle (or headers in progress)
        inFlight.add(s);
        if (!res.headersSent) res.setHeader('connection', 'close');
      }
      if (this.#sockets.size === 0) break;
      if (performance.now() >= deadline) {
        let cut = 0;
        for (const s of this.#sockets) {
          cut++;
          const res = s[kRes];
          if (res) answerAndClose(res, s, 'GW_ERR_SHUTTING_DOWN', 'Service Unavailable'); else s.destroy();
          setTimeout(() => s.destroy(), 200).unref();
        }
        while (this.#sockets.size > 0) await new Promise((r) => setTimeout(r, 10));
        return { waited: inFlight.size - cut, cut };
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return { waited: inFlight.size, cut: 0 };
  }
}
