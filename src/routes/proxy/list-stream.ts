import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, type WriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { CheckService } from '../../check/check-service.ts';
import type { RemovedRecipient } from '../../check/removal-reports.ts';
import { screenOutbound, type Entrance, type MessageScreening } from '../../check/screening.ts';
import { PromoLintAccumulator, type PromotionalPolicy } from '../../domain/promo-lint.ts';
import { gatewayError } from '../../errors.ts';
import { hasDuplicateKeys } from '../../transports/http-proxy/json-keys.ts';
import { JsonListSplitter } from '../../transports/http-proxy/json-list-splitter.ts';
import type { Screening } from '../../transports/http-proxy/screen.ts';
import { UnreadableRequest, type ListBodySpec, type ProviderAdapter, type ProviderMessage } from '../../transports/http-proxy/types.ts';

/**
 * Bounds of streamed campaign lists (config `listStream`, README "Calls"). A list body up to
 * `streamAboveBytes` is read whole like any proxy body; a longer one is spooled to a private
 * temporary directory, split (JsonListSplitter), screened in batches of `batchSize` and forwarded
 * rebuilt from disk, so memory is bounded by the batch, never by the list.
 */
export interface ListStreamLimits {
  /** Largest list body accepted (bytes; 413 GW_ERR_BODY_TOO_LARGE past it). */
  maxBodyBytes: number;
  /** Bodies up to this size are held in memory and screened whole (bytes). */
  streamAboveBytes: number;
  /** Largest part of the body outside the list (bytes). */
  maxHeadBytes: number;
  /** Largest single list element (bytes). */
  maxElementBytes: number;
  /** Entries per screening batch. */
  batchSize: number;
}

/** A request body spooled to disk (`dir` is removed by `cleanup`, idempotent). */
export class SpooledBody {
  #cleaned = false;
  constructor(readonly dir: string, readonly file: string, readonly size: number) {}
  cleanup(): void {
    if (this.#cleaned) return;
    this.#cleaned = true;
    rm(this.dir, { recursive: true, force: true }).catch(() => { /* a temp dir left behind is removed with the OS's tmp */ });
  }
}

/** A body forwarded as a stream of known length. */
export interface StreamBody { length: number; stream(): Readable }

/**
 * Content-type parser of the list endpoints: the body as a Buffer when it is at most
 * `streamAboveBytes`, else a SpooledBody (written with backpressure). Past `maxBodyBytes`
 * (declared or received) → 413 GW_ERR_BODY_TOO_LARGE; a body shorter or longer than its
 * content-length → 400 GW_ERR_VALIDATION; a broken upload → its error with status 400.
 */
export function spoolingParser(limits: ListStreamLimits) {
  return (req: FastifyRequest, payload: IncomingMessage, done: (err: Error | null, body?: unknown) => void): void => {
    const declared = Number(req.headers['content-length']);
    if (declared > limits.maxBodyBytes) { done(gatewayError('GW_ERR_BODY_TOO_LARGE', [limits.maxBodyBytes])); return; }
    let chunks: Buffer[] = [];
    let len = 0;
    let out: WriteStream | null = null;
    let dir = '';
    let finished = false;
    const detach = () => { payload.removeListener('data', onData); payload.removeListener('end', onEnd); payload.removeListener('error', onError); };
    const fail = (err: Error) => {
      if (finished) return;
      finished = true;
      detach();
      if (out) { out.destroy(); rm(dir, { recursive: true, force: true }).catch(() => {}); }
      done(err);
    };
    const onData = (c: Buffer) => {
      len += c.length;
      if (len > limits.maxBodyBytes) { fail(gatewayError('GW_ERR_BODY_TOO_LARGE', [limits.maxBodyBytes])); return; }
      if (!out && len <= limits.streamAboveBytes) { chunks.push(c); return; }
      if (!out) {
        dir = mkdtempSync(join(tmpdir(), 'iys-gate-list-'));
        out = createWriteStream(join(dir, 'body'), { mode: 0o600 });
        out.on('error', (e) => fail(e));
        for (const b of chunks) out.write(b);
        chunks = [];
      }
      if (!out.write(c)) { payload.pause(); out.once('drain', () => payload.resume()); }
    };
    const onEnd = () => {
      if (finished) return;
      if (!Number.isNaN(declared) && len !== declared) { fail(gatewayError('GW_ERR_VALIDATION', ['the body does not match its content-length'])); return; }
      finished = true;
      detach();
      if (!out) { done(null, Buffer.concat(chunks, len)); return; }
      const o = out;
      o.end(() => done(null, new SpooledBody(dir, join(dir, 'body'), len)));
    };
    const onError = (err: Error & { statusCode?: number }) => {
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      fail(err);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
  };
}

/** What the first pass over a spooled list found. */
export interface SplitList {
  spooled: SpooledBody;
  spec: ListBodySpec;
  /** The body before the list's `[` and after its `]`. */
  prefix: Buffer;
  suffix: Buffer;
  /** `prefix [first element] suffix`: what the adapter reads the campaign's fields from. */
  skeleton: string;
  /** Entries (numbers) in the list. */
  entries: number;
  /** The promotional lint of every text of the list so far (the campaign's own texts are added later). */
  lint: PromoLintAccumulator;
}

function parseElement(spec: ListBodySpec, bytes: Buffer, index: number, checkKeys = true): ReturnType<ListBodySpec['entries']> {
  const text = bytes.toString('utf8');
  let v: unknown;
  try { v = JSON.parse(text); } catch { throw new UnreadableRequest(`${spec.path.join('.')}.${index} is not JSON`); }
  if (checkKeys && hasDuplicateKeys(text)) throw new UnreadableRequest(`${spec.path.join('.')}.${index}: a JSON object names the same key twice (providers may read the other value)`);
  return spec.entries(v, index);
}

/**
 * First pass over a spooled list body: splits it, parses and checks every element (adapter
 * `listBody.entries`), counts the entries and lints their texts.
 * @returns the split list, or `{ whole }` (the body itself, at most `maxHeadBytes`) when it holds
 *   no list at the spec's path or an empty one: the caller then screens it like any body
 * @throws UnreadableRequest for a malformed list, an element without a number, or a bound passed
 */
export async function splitSpooled(spooled: SpooledBody, spec: ListBodySpec, limits: ListStreamLimits): Promise<SplitList | { whole: Buffer }> {
  const lint = new PromoLintAccumulator();
  const linted = new Set<string>();
  let first: Buffer | null = null;
  let entries = 0;
  let index = 0;
  const splitter = new JsonListSplitter(spec.path, (bytes) => {
    const e = parseElement(spec, bytes, index++);
    for (const x of e.entries) {
      entries++;
      if (x.text !== undefined && !linted.has(x.text)) { if (linted.size < 10_000) linted.add(x.text); lint.add(x.text); }
    }
    if (first === null) first = bytes;
  }, limits);
  for await (const chunk of createReadStream(spooled.file, { highWaterMark: 64 * 1024 })) splitter.push(chunk as Buffer);
  const { prefix, suffix } = splitter.end();
  if (prefix === null) return { whole: suffix };
  if (first === null) return { whole: Buffer.concat([prefix, Buffer.from('[]'), suffix]) };
  return { spooled, spec, prefix, suffix, skeleton: `${prefix.toString('utf8')}[${(first as Buffer).toString('utf8')}]${suffix.toString('utf8')}`, entries, lint };
}

/** What screening a streamed list decided, and the body to forward. */
export interface ListScreening {
  screening: Screening;
  /** Decision-log sequences of every batch (the first is `screening.decisionSeq`). */
  decisionSeqs: number[];
  /** The body to forward (null: nothing to forward). */
  body: StreamBody | null;
  /** Entries in the list (ProviderMessage.recipients of the whole list). */
  entries: number;
}

const SENTINEL = '\u0000iys-gate-list\u0000';

/**
 * Second pass: screens a split list in batches through the one screening (check/screening.ts
 * `screenOutbound`, each batch with the whole list's promotional verdict and its own texts for
 * the content check) and writes the kept elements, in order, to a second file beside the body.
 * The rebuilt body is `prefix [kept…] suffix` — the campaign's own bytes around the list, except
 * when the policy re-classifies the campaign as commercial (adapter `markCommercial` rewrites the
 * head). Nothing removed and nothing re-classified: the original body is forwarded byte for byte.
 * A batch refused by policy refuses the whole list (nothing forwarded).
 * @param message what the adapter read from the skeleton (classification, brand, campaign texts)
 * @param parsed the parsed skeleton (for `markCommercial`)
 * @throws UnreadableRequest for an element that cannot be read (found in the first pass already)
 * @throws GW_ERR_DECISION_LOG_UNAVAILABLE from screenOutbound
 */
export async function screenList(
  checks: CheckService, adapter: ProviderAdapter, message: ProviderMessage, parsed: unknown, list: SplitList,
  brandCode: number, policy: PromotionalPolicy, door: { entrance: Entrance; via: string; keyName?: string | undefined }, limits: ListStreamLimits,
): Promise<ListScreening> {
  for (const t of message.texts) list.lint.add(t);
  const lint = list.lint.result();
  const markCommercial = adapter.markCommercial?.bind(adapter);
  const canDeclareCommercial = markCommercial ? () => markCommercial(parsed, message.recipientType) !== null : undefined;
  const outFile = join(list.spooled.dir, 'out');
  const out = createWriteStream(outFile, { mode: 0o600 });
  const outError = new Promise<never>((_r, reject) => out.once('error', reject));
  outError.catch(() => {});
  let outBytes = 0;
  let written = 0;
  const comma = Buffer.from(',');
  /** Writes one kept element; false when the file asks to wait for 'drain'. */
  const write = (b: Buffer): boolean => {
    if (written++ > 0) { out.write(comma); outBytes++; }
    outBytes += b.length;
    return out.write(b);
  };
  const drained = () => Promise.race([once(out, 'drain'), outError]);

  const removed: RemovedRecipient[] = [];
  const decisionSeqs: number[] = [];
  let decisionId: string | null = null;
  let allowed = 0;
  let base = 0; // global index of the batch's first entry
  let last: MessageScreening | null = null;
  let refused: MessageScreening | null = null;
  let content: MessageScreening['content'] = null;
  type Pending = { bytes: Buffer; e: ReturnType<ListBodySpec['entries']> };
  let pending: Pending[] = [];
  let pendingEntries = 0;
  let index = 0;

  const runBatch = async (batch: Pending[]) => {
    const recipients: string[] = [];
    const texts = new Set(message.texts);
    for (const p of batch) for (const x of p.e.entries) { recipients.push(x.recipient); if (x.text !== undefined) texts.add(x.text); }
    const s = await screenOutbound(checks, {
      entrance: door.entrance, via: door.via, brandCode, type: message.type, recipientType: message.recipientType,
      messageType: message.messageType, recipients, texts: [...texts], lint, keyName: door.keyName,
    }, { policy, canDeclareCommercial });
    last = s;
    if (s.decisionSeq !== null) decisionSeqs.push(s.decisionSeq);
    decisionId ??= s.decisionId;
    if (s.content) content = content ? { missing: [...new Set([...content.missing, ...s.content.missing])], blocked: content.blocked || s.content.blocked } : s.content;
    if (s.refused) { refused = s; return; }
    for (const r of s.removed) removed.push({ ...r, index: r.index + base });
    let k = 0;
    let full = false;
    for (const p of batch) {
      if (p.e.whole) { if (s.keep[k++]) { allowed++; if (!write(p.bytes)) full = true; } continue; }
      for (const x of p.e.entries) if (s.keep[k++]) { allowed++; if (!write(Buffer.from(JSON.stringify(x.value)))) full = true; }
    }
    if (full) await drained(); // a batch's elements are already in memory: one wait per batch bounds the file buffer
    base += recipients.length;
  };

  const splitter = new JsonListSplitter(list.spec.path, (bytes) => {
    const e = parseElement(list.spec, bytes, index++, false); // keys were checked in the first pass
    pending.push({ bytes, e });
    pendingEntries += e.entries.length;
  }, limits);
  try {
    for await (const chunk of createReadStream(list.spooled.file, { highWaterMark: 64 * 1024 })) {
      splitter.push(chunk as Buffer);
      while (pendingEntries >= limits.batchSize && refused === null) {
        let n = 0; let cut = 0;
        while (cut < pending.length && n < limits.batchSize) n += pending[cut++]!.e.entries.length;
        const batch = pending.slice(0, cut);
        pending = pending.slice(cut);
        pendingEntries -= n;
        await runBatch(batch);
      }
      if (refused !== null) break;
    }
    if (refused === null) {
      splitter.end();
      if (pending.length > 0) await runBatch(pending);
    }
    pending = [];
    out.end();
    await Promise.race([once(out, 'finish'), outError]);
  } catch (err) {
    out.destroy();
    throw err;
  }

  const s: MessageScreening = refused ?? last!;
  const screening: Screening = {
    content, promo: s.promo, checkedMessageType: s.checkedMessageType, refused: refused !== null, keep: [],
    removed: refused !== null ? [] : removed, body: null, rewritten: removed.length > 0, forwarded: refused !== null ? 0 : allowed,
    decisionId, decisionSeq: decisionSeqs[0] ?? null,
  };
  if (refused !== null || allowed === 0) return { screening, decisionSeqs, body: null, entries: list.entries };

  const declare = s.promo.action === 'treat-as-commercial' && markCommercial !== undefined;
  if (removed.length === 0 && !declare) {
    const { spooled } = list;
    return { screening, decisionSeqs, entries: list.entries, body: { length: spooled.size, stream: () => createReadStream(spooled.file) } };
  }
  let before: Buffer = Buffer.concat([list.prefix, Buffer.from('[')]);
  let after: Buffer = Buffer.concat([Buffer.from(']'), list.suffix]);
  if (declare) {
    // the head re-written by the adapter around a sentinel list, then cut at the sentinel
    const skeleton = JSON.parse(`${list.prefix.toString('utf8')}[${JSON.stringify(SENTINEL)}]${list.suffix.toString('utf8')}`) as unknown;
    const marked = JSON.stringify(markCommercial!(skeleton, message.recipientType));
    const at = marked.indexOf(JSON.stringify(SENTINEL));
    if (at === -1) throw new UnreadableRequest('the campaign cannot be declared commercial in its own fields');
    before = Buffer.from(marked.slice(0, at));
    after = Buffer.from(marked.slice(at + JSON.stringify(SENTINEL).length));
    screening.rewritten = true;
  }
  const size = (await stat(outFile)).size;
  if (size !== outBytes) throw new Error(`list rebuild wrote ${size} bytes, expected ${outBytes}`);
  const head = before, tail = after;
  return {
    screening, decisionSeqs, entries: list.entries,
    body: {
      length: head.length + size + tail.length,
      stream: () => Readable.from((async function* () { yield head; yield* createReadStream(outFile); yield tail; })()),
    },
  };
}
