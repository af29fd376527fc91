/**
 * An HTTP client that sends the request target exactly as written (fetch and inject resolve `..`,
 * `\` and encodings first, so they cannot test what a hostile path does). One keep-alive agent.
 */
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

export interface RawAnswer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** Sends `method path` to `base` (`http://127.0.0.1:port`) with the path byte for byte. */
export function rawRequest(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawAnswer> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, agent, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`timeout ${method} ${path}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Closes the agent's idle sockets (call in teardown). */
export function closeRawAgent(): void { agent.destroy(); }
