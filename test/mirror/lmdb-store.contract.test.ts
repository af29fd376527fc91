import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbStore } from '../../src/mirror/lmdb-store.ts';
import { runStoreContract } from './store-contract.ts';

// The shared store contract against the LMDB store, durable on disk (reopen opens the same file).
runStoreContract(t, 'lmdb', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iys-lmdb-contract-'));
  let store = new LmdbStore({ dataDir });
  await store.open();
  return {
    store,
    reopen: async () => { await store.close(); store = new LmdbStore({ dataDir }); await store.open(); return store; },
    cleanup: async () => { await store.close(); rmSync(dataDir, { recursive: true, force: true }); },
  };
});
