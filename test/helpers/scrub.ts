/**
 * Shared by the scrub regression tests: a gateway (test/transports/harness.ts) holding ONAY for
 * +905550000001 and +905550000003 and RET for +905550000002 and +905550000004 (ARAMA and MESAJ,
 * BIREYSEL) and ONAY/RET for ayse@example.com / ali@example.com (EPOSTA); a POST helper that
 * returns the body as bytes; a scrub driven in-process with chosen chunk boundaries.
 */
import { Readable } from 'node:stream';
import { request } from 'undici';
import { BRAND, KEY, makeProxy } from '../transports/harness.ts';
import { CallListScrub, type ScrubOptions } from '../../src/transports/scrub/scrub-lines.ts';
import type { GatewayConfigInput } from '../../src/config/schema.ts';

export { BRAND, KEY };
type Teardown = { teardown(fn: () => unknown): void };

export async function scrubGateway(t: Teardown, opts: { listen?: boolean; config?: GatewayConfigInput } = {}) {
  const gw = await makeProxy(t, [], opts);
  const rows = [];
  for (const type of ['ARAMA', 'MESAJ'] as const) {
    rows.push({ recipient: '+905550000001', status: 'ONAY' as const, type }, { recipient: '+905550000002', status: 'RET' as const, type },
      { recipient: '+905550000003', status: 'ONAY' as const, type }, { recipient: '+905550000004', status: 'RET' as const, type });
  }
  rows.push({ recipient: 'ayse@example.com', status: 'ONAY' as const, type: 'EPOSTA' as const }, { recipient: 'ali@example.com', status: 'RET' as const, type: 'EPOSTA' as const });
  await gw.seed(rows);
  return gw;
}

export type ScrubGateway = Awaited<ReturnType<typeof scrubGateway>>;

/** `POST /v1/scrub?<query>` by inject; the answer's body as bytes. */
export async function postScrub(gw: ScrubGateway, query: string, payload: Buffer | string, contentType = 'text/csv') {
  const res = await gw.app.inject({ method: 'POST', url: `/v1/scrub?brandCode=${BRAND}&${query}`, headers: { authorization: `Bearer ${KEY}`, 'content-type': contentType }, payload });
  return { status: res.statusCode, type: res.headers['content-type'], raw: res.rawPayload, text: res.body, json: () => res.json() as { code: string; message: string } };
}

/** `POST /v1/scrub` over a real socket, the body streamed as the given chunks. */
export async function postScrubStream(gw: ScrubGateway, query: string, chunks: AsyncIterable<Buffer> | Iterable<Buffer>, contentType = 'text/csv') {
  const res = await request(`${gw.url}/v1/scrub?brandCode=${BRAND}&${query}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': contentType }, body: Readable.from(chunks) });
  const parts: Buffer[] = [];
  for await (const c of res.body) parts.push(c as Buffer);
  return { status: res.statusCode, type: res.headers['content-type'], raw: Buffer.concat(parts) };
}

/** Runs a scrub in-process over `chunks` (exact boundaries); the output bytes and counts. */
export async function scrubChunks(gw: ScrubGateway, chunks: Buffer[], opts: Partial<ScrubOptions> = {}) {
  const scrub = new CallListScrub(gw.checks, { brandCode: BRAND, type: 'ARAMA', messageType: 'TICARI', recipientType: 'BIREYSEL', annotate: false, ...opts });
  const out: Buffer[] = [];
  for await (const c of scrub.run(chunks)) out.push(c);
  return { out: Buffer.concat(out), stats: scrub.stats, charset: scrub.charset, delimiter: scrub.delimiter };
}

/** `buf` cut at every offset in `cuts` (ascending). */
export function cutAt(buf: Buffer, cuts: number[]): Buffer[] {
  const parts: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) { parts.push(buf.subarray(prev, c)); prev = c; }
  parts.push(buf.subarray(prev));
  return parts;
}
