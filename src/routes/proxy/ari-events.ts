import { request as httpRequest, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { gatewayError, isGatewayError, type GatewayError } from '../../errors.ts';
import type { Upstream } from '../../transports/http-proxy/registry.ts';

/** ARI's event WebSocket path (Asterisk REST Interface `GET /ari/events?app=…`). */
export const ARI_EVENTS_PATH = '/ari/events';

/**
 * What a client may send on the event WebSocket. Asterisk 22 also takes REST requests over it
 * (`{"type":"RESTRequest","method":"POST","uri":"channels?endpoint=…"}`): an originate the gate
 * could not screen there, so no data frame from the client is forwarded.
 */
export const ARI_WS_CLOSE_POLICY = 1008;

/**
 * Client → Asterisk frames of one event WebSocket (RFC 6455 §5.2): control frames (ping, pong,
 * close) pass byte for byte; the first data frame (text, binary, continuation), or an unmasked
 * frame, stops the stream: `push` reports it refused and forwards nothing of it.
 */
export class ClientFrameFilter {
  #head: Buffer = Buffer.alloc(0);
  #remaining = 0;
  #refused = false;

  /** The bytes to forward from `chunk`, and whether a refused frame was met. */
  push(chunk: Buffer): { forward: Buffer[]; refused: boolean } {
    const forward: Buffer[] = [];
    let c = chunk;
    while (c.length > 0 && !this.#refused) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, c.length);
        forward.push(c.subarray(0, take));
        this.#remaining -= take;
        c = c.subarray(take);
        continue;
      }
      this.#head = this.#head.length > 0 ? Buffer.concat([this.#head, c]) : c;
      c = Buffer.alloc(0);
      const h = this.#head;
      if (h.length < 2) break;
      const opcode = h[0]! & 0x0f;
      const masked = (h[1]! & 0x80) !== 0;
      const len7 = h[1]! & 0x7f;
      const headerLen = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      if (h.length < headerLen) break;
      if ((opcode & 0x08) === 0 || !masked) { this.#refused = true; break; }
      const len = len7 === 126 ? h.readUInt16BE(2) : len7 === 127 ? Number(h.readBigUInt64BE(2)) : len7;
      if (len > 125) { this.#refused = true; break; } // control frames carry at most 125 bytes (§5.5)
      forward.push(h.subarray(0, headerLen));
      this.#remaining = len;
      c = h.subarray(headerLen);
      this.#head = Buffer.alloc(0);
    }
    return { forward, refused: this.#refused };
  }
}

/** A server→client close frame (unmasked) with `code` and a reason of at most 123 bytes. */
export function closeFrame(code: number, reason: string): Buffer {
  const r = Buffer.from(reason, 'utf8').subarray(0, 123);
  const f = Buffer.alloc(4 + r.length);
  f[0] = 0x88;
  f[1] = 2 + r.length;
  f.writeUInt16BE(code, 2);
  r.copy(f, 4);
  return f;
}

function answer(socket: Duplex, status: number, body: string, contentType = 'application/json'): void {
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** Headers not forwarded to Asterisk: the gateway's own and the hop's host. */
const DROP = /^(host|x-iys-.*|content-length|transfer-encoding)$/i;

/**
 * The ARI event WebSocket through the gateway (issue 19): `GET /ari/events` (upstream with
 * `ariRoot`) or `/proxy/<name>/ari/events` (an `asterisk-ari` upstream) is authorised like the
 * upstream's REST requests (`authorize`: gate key, or ARI's own user with `gatewayAuth:
 * provider`), then the upgrade is passed to Asterisk with the client's headers and query (its
 * `api_key` / Basic credentials; `x-iys-*` headers dropped) and the two sockets are joined:
 * events flow to the client unchanged; from the client only control frames pass (ClientFrameFilter)
 * — a data frame (a REST request over the WebSocket, which could originate a call) closes the
 * connection with 1008 and `GW_ERR_ARI_WS_REQUEST_REFUSED`, nothing of it reaching Asterisk.
 * Asterisk's refusal of the upgrade (401 …) is relayed; an unreachable Asterisk → 502.
 * Other upgrade requests are answered 404 when nothing else on the server takes upgrades.
 * @returns `close()`: destroys every open event socket (the server's close waits for them)
 * @param authorize throws a GatewayError when the request may not use the upstream
 */
export function ariEventsUpgrade(server: Server, upstreams: readonly Upstream[], authorize: (u: Upstream, req: IncomingMessage, query: URLSearchParams) => void, log: { warn(o: object, m: string): void }): { close(): void } {
  const open = new Set<Duplex>();
  const root = upstreams.find((x) => x.config.ariRoot) ?? null;
  const byName = new Map(upstreams.map((x) => [x.config.name, x]));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q);
    const m = /^\/proxy\/([^/]+)(\/ari\/events)\/?$/.exec(path);
    const u = path.replace(/\/$/, '') === ARI_EVENTS_PATH ? root : m ? byName.get(m[1]!) ?? null : null;
    if (!u || (req.method ?? 'GET') !== 'GET') {
      if (server.listenerCount('upgrade') === 1) answer(socket, 404, JSON.stringify({ message: 'not found' }));
      return;
    }
    try {
      authorize(u, req, new URLSearchParams(query));
    } catch (err) {
      const e: GatewayError = isGatewayError(err) ? err : gatewayError('GW_ERR_UNAUTHORIZED');
      answer(socket, e.statusCode, JSON.stringify({ message: `${e.code}: ${e.message}`, code: e.code }));
      return;
    }
    const target = new URL(u.config.url);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROP.test(k)) headers[k] = v;
    headers.host = target.host;
    const up = (target.protocol === 'https:' ? httpsRequest : httpRequest)({
      host: target.hostname, port: target.port || (target.protocol === 'https:' ? 443 : 80), method: 'GET',
      path: u.client.pathFor(ARI_EVENTS_PATH + query), headers, timeout: u.config.connectTimeoutMs,
    });
    up.on('timeout', () => up.destroy(new Error('connect timeout')));
    up.on('error', (err) => {
      log.warn({ upstream: u.config.name, err: err.message }, `upstream ${u.config.name}: event WebSocket not connected`);
      if (!socket.destroyed) answer(socket, 502, JSON.stringify({ message: `GW_ERR_UPSTREAM_UNAVAILABLE: ${u.config.name}`, code: 'GW_ERR_UPSTREAM_UNAVAILABLE' }));
    });
    up.on('response', (res) => {
      // Asterisk refused the upgrade (bad credentials, unknown app): its answer goes back as it is
      const lines = [`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}`];
      for (let i = 0; i < res.rawHeaders.length; i += 2) if (!/^(connection|keep-alive|transfer-encoding)$/i.test(res.rawHeaders[i]!)) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => { if (chunks.length < 64) chunks.push(c); });
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        socket.end(Buffer.concat([Buffer.from(lines.filter((l) => !/^content-length:/i.test(l)).join('\r\n') + `\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`), body]));
      });
    });
    up.on('upgrade', (res, upSocket: Duplex, upHead: Buffer) => {
      const lines = ['HTTP/1.1 101 Switching Protocols'];
      for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n');
      if (upHead.length > 0) socket.write(upHead);
      const filter = new ClientFrameFilter();
      let closed = false;
      const refuse = () => {
        if (closed) return;
        closed = true;
        log.warn({ upstream: u.config.name }, `upstream ${u.config.name}: a client sent a request over the ARI event WebSocket; closed (${ARI_WS_CLOSE_POLICY})`);
        upSocket.destroy();
        socket.end(closeFrame(ARI_WS_CLOSE_POLICY, 'GW_ERR_ARI_WS_REQUEST_REFUSED: use the REST API through the gateway'));
      };
      const fromClient = (c: Buffer) => {
        if (closed) return;
        const { forward, refused } = filter.push(c);
        for (const b of forward) upSocket.write(b);
        if (refused) refuse();
      };
      upSocket.on('data', (c: Buffer) => { if (!closed) socket.write(c); });
      upSocket.on('error', () => { closed = true; socket.destroy(); });
      upSocket.on('close', () => { closed = true; socket.end(); });
      socket.on('close', () => { closed = true; upSocket.destroy(); });
      socket.on('data', fromClient);
      if (head.length > 0) fromClient(head);
    });
    up.end();
  });
  return { close() { for (const s of open) s.destroy(); } };
}
