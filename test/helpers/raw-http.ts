import net from 'node:net';

/** One parsed HTTP/1.1 response read off a raw socket. */
export interface RawResponse { status: number; headers: Record<string, string>; body: string }

/**
 * A raw keep-alive HTTP/1.1 client socket on 127.0.0.1 for tests that need to stall or trickle a
 * request: `send` writes bytes as they are, `response()` resolves with the next complete response
 * (content-length framed), `closed` resolves when the server closes the connection (with the time).
 */
export class RawConn {
  readonly socket: net.Socket;
  #buf = '';
  #waiters: Array<() => void> = [];
  readonly closed: Promise<number>;
  closedAt: number | null = null;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => { this.#buf += d; this.#wake(); });
    this.socket.on('error', () => { /* reset by the server: seen through `closed` */ });
    this.closed = new Promise((resolve) => this.socket.once('close', () => { this.closedAt = performance.now(); this.#wake(); resolve(this.closedAt); }));
  }

  ready(): Promise<void> {
    return new Promise((r) => { if (this.socket.readyState === 'open') r(); else this.socket.once('connect', () => r()); });
  }

  #wake(): void { for (const w of this.#waiters.splice(0)) w(); }

  send(text: string): void { if (!this.socket.destroyed) this.socket.write(text); }

  /** Resolves with the next full response, or null if the connection closes first. */
  async response(): Promise<RawResponse | null> {
    for (;;) {
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const [statusLine, ...lines] = this.#buf.slice(0, end).split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of lines) { const i = l.indexOf(':'); headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim(); }
        const len = Number(headers['content-length'] ?? 0);
        if (this.#buf.length >= end + 4 + len) {
          const body = this.#buf.slice(end + 4, end + 4 + len);
          this.#buf = this.#buf.slice(end + 4 + len);
          return { status: Number(statusLine!.split(' ')[1]), headers, body };
        }
      }
      if (this.closedAt !== null) return null;
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  destroy(): void { this.socket.destroy(); }
}

/** The head of a POST with a declared content length (the body follows separately). */
export function postHead(path: string, contentLength: number, headers: Record<string, string> = {}): string {
  const h = { host: '127.0.0.1', 'content-type': 'application/json', 'content-length': String(contentLength), connection: 'keep-alive', ...headers };
  return `POST ${path} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
}
