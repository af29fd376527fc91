import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { runStoreContract } from './store-contract.ts';

// The shared store contract against the embedded store, durable on disk (reopen replays it).
runStoreContract(t, 'embedded', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iys-mem-contract-'));
  let store = new MemoryStore({ dataDir });
  await store.open();
  return {
    store,
    reopen: async () => { await store.close(); store = new MemoryStore({ dataDir }); await store.open(); return store; },
    cleanup: async () => { await store.close(); rmSync(dataDir, { recursive: true, force: true }); },
  };
});
