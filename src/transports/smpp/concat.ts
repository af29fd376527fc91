/**
 * Reassembly of concatenated messages (UDH IE 0x00 / 0x08, or the SAR TLVs): parts are held
 * until every part of one message is there, so the promotional lint reads the whole text and
 * every part gets one decision. Bounded: at most `maxMessages` messages held, each for at most
 * `timeoutMs` from its first part (then its held parts are given back as expired). A decision is
 * remembered for `timeoutMs` after it was made, so a part the ESME sends again (after a lost
 * response) gets the same decision instead of starting a new message.
 */

/** One held part. */
export interface HeldPart<P> { seqNo: number; text: string | null; item: P }

interface Assembly<P> { total: number; count: number; parts: (HeldPart<P> | undefined)[]; at: number }

/** What adding a part did. */
export type AddResult<P, D> =
  | { kind: 'held' }
  | { kind: 'complete'; parts: HeldPart<P>[] }
  /** The message was already decided (a part sent again): apply this decision to the part. */
  | { kind: 'decided'; decision: D }
  /** The same part number was held already: the older copy is given back (answer it), the new one is held. */
  | { kind: 'replaced'; older: HeldPart<P> }
  | { kind: 'full' };

export class Reassembly<P, D> {
  readonly #held = new Map<string, Assembly<P>>();
  readonly #decided = new Map<string, { decision: D; at: number }>();
  readonly #timer: NodeJS.Timeout;

  /**
   * @param onExpired called with the parts of a message that did not complete in time
   */
  constructor(private readonly timeoutMs: number, private readonly maxMessages: number, private readonly onExpired: (parts: HeldPart<P>[]) => void, private readonly now: () => number = Date.now) {
    this.#timer = setInterval(() => this.sweep(), Math.max(10, Math.min(timeoutMs / 4, 1_000)));
    this.#timer.unref();
  }

  /** Messages held now. */
  get size(): number { return this.#held.size; }

  /**
   * Adds part `seqNo` (1-based) of `total` of the message `key`.
   * @param key identifies one message: bind, source, destination, reference, total
   */
  add(key: string, total: number, part: HeldPart<P>): AddResult<P, D> {
    const d = this.#decided.get(key);
    if (d !== undefined) return { kind: 'decided', decision: d.decision };
    let a = this.#held.get(key);
    if (a === undefined) {
      if (this.#held.size >= this.maxMessages) return { kind: 'full' };
      a = { total, count: 0, parts: new Array(total).fill(undefined), at: this.now() };
      this.#held.set(key, a);
    }
    const i = part.seqNo - 1;
    const older = a.parts[i];
    a.parts[i] = part;
    if (older !== undefined) return { kind: 'replaced', older };
    a.count++;
    if (a.count < a.total) return { kind: 'held' };
    this.#held.delete(key);
    return { kind: 'complete', parts: a.parts as HeldPart<P>[] };
  }

  /** Remembers the decision of a completed message (for parts sent again). */
  decided(key: string, decision: D): void {
    this.#decided.delete(key);
    this.#decided.set(key, { decision, at: this.now() });
  }

  /** Expires held messages and remembered decisions older than the timeout. */
  sweep(): void {
    const limit = this.now() - this.timeoutMs;
    for (const [k, a] of this.#held) {
      if (a.at > limit) continue;
      this.#held.delete(k);
      this.onExpired(a.parts.filter((p): p is HeldPart<P> => p !== undefined));
    }
    for (const [k, d] of this.#decided) {
      if (d.at > limit) break; // insertion order = decision order
      this.#decided.delete(k);
    }
  }

  /** Gives back every held part (closing) and stops the timer. */
  close(): void {
    clearInterval(this.#timer);
    const all = [...this.#held.values()];
    this.#held.clear();
    this.#decided.clear();
    for (const a of all) this.onExpired(a.parts.filter((p): p is HeldPart<P> => p !== undefined));
  }
}
