// Test-only preload for a gateway child process (`node --import tsx --import ./test/helpers/between-writes-hook.ts src/server.ts`):
// after each durable write of a refusal — the outbox record (Outbox.add, RedisOutbox.add), the mirror write
// (RedisStore.apply / MemoryStore.apply / LmdbStore.apply), or both in one (RedisStore.applyWithOutbox) — it prints `HOOK <write>` and holds the request for
// TEST_BETWEEN_WRITES_MS, so a test can kill -9 the gateway between the two writes, whichever
// order the route makes them in. Nothing here is loaded by production code.
import { Outbox } from '../../src/iys/outbox.ts';
import { RedisOutbox } from '../../src/iys/redis-outbox.ts';
import { LmdbStore } from '../../src/mirror/lmdb-store.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { RedisStore } from '../../src/mirror/redis-store.ts';

const holdMs = Number(process.env.TEST_BETWEEN_WRITES_MS ?? '0');

function hold(proto: object, method: string, label: string): void {
  const p = proto as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const orig = p[method]!;
  p[method] = async function (this: unknown, ...args: unknown[]) {
    const r = await orig.apply(this, args);
    process.stdout.write(`HOOK ${label}\n`);
    if (holdMs > 0) await new Promise((res) => setTimeout(res, holdMs));
    return r;
  };
}

hold(Outbox.prototype, 'add', 'outbox');
hold(RedisOutbox.prototype, 'add', 'outbox');
// Redis on one node: the outbox item and the mirror write are one script; the hold comes after both
hold(RedisStore.prototype, 'applyWithOutbox', 'outbox+mirror');
hold(RedisStore.prototype, 'apply', 'mirror');
hold(MemoryStore.prototype, 'apply', 'mirror');
hold(LmdbStore.prototype, 'apply', 'mirror');
