import { Readable } from 'node:stream';
import { smtpReply, type SmtpReplyError } from './replies.ts';

/**
 * Reads a DATA stream (smtp-server's, dot-unstuffed) chunk by chunk under backpressure: the
 * stream is paused while nobody reads, so a message is never held whole (issue 13: streamed
 * DATA). Checks every byte for bare LF / bare CR as it passes (SMTP smuggling, RFC 5321 §2.3.8):
 * such a chunk fails the read. Never destroys the source: `drain()` reads the rest away so
 * smtp-server can answer.
 */
export class DataReader {
  readonly #src: NodeJS.ReadableStream & { sizeExceeded?: boolean };
  readonly #queue: Buffer[] = [];
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #prevCr = false;
  #draining = false;
  /** Bytes read so far. */
  bytes = 0;

  constructor(src: NodeJS.ReadableStream & { sizeExceeded?: boolean }) {
    this.#src = src;
    src.on('data', (c: Buffer) => {
      if (this.#draining) return;
      this.#queue.push(c);
      if (this.#queue.length > 4) src.pause();
      this.#poke();
    });
    src.once('end', () => { this.#ended = true; this.#poke(); });
    src.once('error', (e: Error) => { this.#error = e; this.#poke(); });
    src.once('close', () => { if (!this.#ended && !this.#error) this.#error = new Error('DATA stream closed early'); this.#poke(); });
  }

  #poke(): void { const w = this.#wake; this.#wake = null; w?.(); }

  /** True once the message's last byte was read (client sent the final `.`). */
  get ended(): boolean { return this.#ended && this.#queue.length === 0; }
  /** True when smtp-server counted more bytes than its `size`. */
  get sizeExceeded(): boolean { return this.#src.sizeExceeded === true; }

  /**
   * The next chunk, or null at the end of the message.
   * @throws the source's error (client gone), or GW_ERR_SMTP_BARE_LINE_FEED
   */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const c = this.#queue.shift();
      if (c) {
        if (this.#queue.length <= 1) this.#src.resume();
        this.bytes += c.length;
        this.#checkLineEnds(c);
        return c;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) {
        if (this.#prevCr) throw bareLf();
        return null;
      }
      await new Promise<void>((r) => { this.#wake = r; });
    }
  }

  #checkLineEnds(c: Buffer): void {
    let i = this.#prevCr ? -1 : 0;
    if (this.#prevCr) { if (c[0] !== 0x0a) throw bareLf(); i = 1; }
    for (; i < c.length; i++) {
      const b = c[i];
      if (b === 0x0d) {
        if (i + 1 === c.length) { this.#prevCr = true; return; }
        if (c[i + 1] !== 0x0a) throw bareLf();
        i++;
      } else if (b === 0x0a) {
        throw bareLf();
      }
    }
    this.#prevCr = false;
  }

  /** Reads and discards the rest of the message (so smtp-server sees its end and answers). */
  drain(): void {
    this.#draining = true;
    this.#queue.length = 0;
    this.#src.resume();
  }

  /**
   * The message from here on as a Readable: `prefix` chunks first, then the rest of the DATA
   * stream. It errors (never ends) when the client goes away, sends a bare LF, or passes the size
   * limit, so a consumer that writes it to an upstream never sends the final `.`.
   * @param tap called with every chunk read from the DATA stream (not the prefix), in order
   */
  rest(prefix: readonly Buffer[], onBad: (err: Error) => void, tap?: (c: Buffer) => void): Readable {
    const self = this;
    return Readable.from((async function* () {
      for (const p of prefix) yield p;
      for (;;) {
        let c: Buffer | null;
        try { c = await self.next(); } catch (err) { onBad(err as Error); throw err; }
        if (c === null) break;
        tap?.(c);
        yield c;
      }
      if (self.sizeExceeded) { const e = new Error('message over smtp.maxMessageBytes'); onBad(e); throw e; }
    })(), { objectMode: false });
  }
}

function bareLf(): SmtpReplyError {
  return smtpReply(554, '5.6.0', 'GW_ERR_SMTP_BARE_LINE_FEED');
}
