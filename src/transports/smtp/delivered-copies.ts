/**
 * What the relay remembers of a message the upstream took for some recipients but not for all,
 * so that the client's retry of the same message (after the relay's `451 4.4.1
 * GW_ERR_SMTP_UPSTREAM_PARTIAL`) goes only to the recipients that do not have it yet (issue 13,
 * README "Sending e-mail through iys-gate", "Partial upstream failures").
 *
 * In memory on purpose: the relay keeps no spool (issue 13 "Forwarding"), and losing this memory
 * (restart, eviction, expiry) can only make a retry send a second copy to a recipient that has
 * one (a duplicate, RFC 1047), never skip one that has none. A retry is recognised by
 * `preKey` (SHA-256 of key name, envelope sender and the header block as received: known before
 * the body, so only a message that may be a retry is held whole) and confirmed by `hash` (SHA-256
 * of the same plus every body byte): only byte-identical mail from the same key and sender
 * counts as the same message.
 */
export class DeliveredCopies {
  readonly #entries = new Map<string, { hash: string; delivered: Set<string>; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxRecipients: number;
  #held = 0;

  /**
   * @param ttlMs how long an entry is kept (ms; default config `smtp.retryMemoryMs`, 5 days:
   *   Postfix's `maximal_queue_lifetime`, the longest a client is expected to retry)
   * @param maxRecipients recipients held over all entries; past it the oldest entries go
   */
  constructor(ttlMs: number, maxRecipients: number) {
    this.#ttlMs = ttlMs;
    this.#maxRecipients = maxRecipients;
  }

  /** True when a message with this header key had a partial delivery (its body must then be read whole). */
  has(preKey: string, now: number): boolean {
    const e = this.#entries.get(preKey);
    if (!e) return false;
    if (e.expiresAt <= now) { this.#drop(preKey); return false; }
    return true;
  }

  /** Recipients (lower-case) that have the message whose full hash is `hash`; empty when unknown. */
  delivered(preKey: string, hash: string, now: number): ReadonlySet<string> {
    const e = this.#entries.get(preKey);
    if (!e || e.expiresAt <= now || e.hash !== hash) return new Set();
    return e.delivered;
  }

  /** Records that `recipients` have the message (merged with what was known). */
  remember(preKey: string, hash: string, recipients: Iterable<string>, now: number): void {
    const old = this.#entries.get(preKey);
    const delivered = new Set(old && old.hash === hash ? old.delivered : []);
    if (old) this.#drop(preKey);
    for (const r of recipients) delivered.add(r.toLowerCase());
    if (delivered.size > this.#maxRecipients) return;
    this.#entries.set(preKey, { hash, delivered, expiresAt: now + this.#ttlMs });
    this.#held += delivered.size;
    for (const [k] of this.#entries) {
      if (this.#held <= this.#maxRecipients) break;
      this.#drop(k);
    }
  }

  /** Forgets a message (every recipient has it now). */
  forget(preKey: string): void { this.#drop(preKey); }

  /** Entries held (for tests and metrics). */
  get size(): number { return this.#entries.size; }

  #drop(k: string): void {
    const e = this.#entries.get(k);
    if (!e) return;
    this.#held -= e.delivered.size;
    this.#entries.delete(k);
  }
}
