/**
 * A bound on a promise that measures the store, not this process's event loop.
 *
 * A plain `setTimeout` race fails a read whose reply is already in the socket whenever the event
 * loop was busy past the bound (a GC pause, a 10,000-recipient batch being encoded): Node runs
 * expired timers before it polls sockets, so the timer wins although the store answered in time
 * (issue 12 item 7: 43 of 97,711 single checks answered STORE_UNAVAILABLE on a healthy Redis).
 * Here the expired timer only schedules a `setImmediate`, which runs after the next poll phase:
 * a reply that has arrived is read first and wins. A timer that fires more than `ms` late (the
 * loop was blocked, so queued commands may not even have been written) waits once more for as long
 * as it was late, at most `ms`. A store that really does not answer (down, hung: SIGSTOP) fails
 * at `ms` plus one turn of an idle event loop, and at most 2 × `ms` plus the blocking on a loop
 * blocked longer than `ms`.
 *
 * @param p the operation
 * @param ms the bound in ms
 * @param onTimeout the value (or a rejection, by throwing) when `p` has not settled by then
 * @returns `p`'s outcome, or `onTimeout()`'s; a late rejection of `p` is swallowed
 */
export function withDeadline<T, U = never>(p: Promise<T>, ms: number, onTimeout: () => U): Promise<T | U> {
  return new Promise<T | U>((resolve, reject) => {
    let done = false;
    let extra = 0;
    const expire = () => {
      if (done) return;
      done = true;
      try { resolve(onTimeout()); } catch (e) { reject(e); }
    };
    const arm = (after: number) => {
      const due = performance.now() + after;
      return setTimeout(() => {
        // fired later than a whole bound: the loop was blocked, and so was the sending of
        // queued commands (ioredis writes auto-pipelined commands from a setImmediate) and the
        // reading of replies. That time was not the store's: wait it once more (at most `ms`),
        // then decide after a poll phase. (Mere scheduling jitter does not extend the bound.)
        const late = performance.now() - due;
        if (late > ms && extra === 0) { extra = Math.min(ms, late); timer = arm(extra); return; }
        setImmediate(expire);
      }, after);
    };
    let timer = arm(ms);
    p.then(
      (v) => { if (done) return; done = true; clearTimeout(timer); resolve(v); },
      (e: unknown) => { if (done) return; done = true; clearTimeout(timer); reject(e); },
    );
  });
}
