import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../../src/iys/outbox.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { runOutboxContract } from './outbox-contract.ts';

// The outbox contract against the file outbox (outbox.log) with an embedded mirror.
runOutboxContract(t, 'file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iys-outbox-contract-'));
  const store = new MemoryStore({ dataDir: join(dir, 'mirror') });
  await store.open();
  let outbox = new Outbox({ dir: join(dir, 'outbox') });
  await outbox.open();
  return {
    outbox, store,
    reopen: async () => { await outbox.close(); outbox = new Outbox({ dir: join(dir, 'outbox') }); await outbox.open(); return outbox; },
    cleanup: async () => { await outbox.close(); await store.close(); rmSync(dir, { recursive: true, force: true }); },
  };
});
