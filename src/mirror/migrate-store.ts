import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Movement } from '../domain/types.ts';
import type { LmdbStore } from './lmdb-store.ts';
import { MemoryStore } from './memory-store.ts';

/** Files of the MemoryStore format (the release before the LMDB store) inside `<dataDir>/mirror`. */
export const LEGACY_FILES = ['snapshot.log', 'journal.log'] as const;
/** Prefix of the directory the legacy files are moved into (`legacy-memory-store-<UTC stamp>`). */
const MOVED_PREFIX = 'legacy-memory-store-';
const STATES_PER_TXN = 10_000;

/** What a migration did. */
export interface MigrationReport {
  /** Directory now holding the moved-aside legacy files (kept; remove it by hand once satisfied). */
  movedTo: string;
  records: number;
  /** Older movements copied (history beyond the current records). */
  history: number;
  meta: number;
  seconds: number;
}

/** Progress callback: `done` of `total` records written. */
export type MigrationProgress = (done: number, total: number) => void;


/** True when `dir` holds a legacy file or a moved-aside directory not yet migrated into `target`. */
export async function needsMigration(dir: string, target: LmdbStore): Promise<boolean> {
  return LEGACY_FILES.some((f) => existsSync(join(dir, f))) || (await pendingMoved(dir, target)).length > 0;
}

async function pendingMoved(dir: string, target: LmdbStore): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.startsWith(MOVED_PREFIX) || !statSync(join(dir, name)).isDirectory()) continue;
    if ((await target.getMeta(`migration.${name}`)) !== 'done') out.push(name);
  }
  return out;
}

/**
 * Migrates a mirror directory written by the MemoryStore release into the open LMDB store `target`
 * (same directory). Steps, each safe to repeat after a crash:
 * 1. `snapshot.log` and `journal.log` are renamed into `<dir>/legacy-memory-store-<stamp>/` (one
 *    directory fsync; nothing is deleted);
 * 2. for each such directory not yet marked done: a copy of its files is opened with
 *    `MemoryStore` (its own replay rules: framing, torn tail), and every current record with its
 *    older movements and every meta value is written to LMDB in transactions of 10,000 keys
 *    (a repeated run overwrites the same keys: idempotent);
 * 3. meta `migration.<dirname>` = `done` (durable) ends it; the copy is removed, the moved files stay.
 * Every meta name of the old store is copied (`MemoryStore.metaEntries`); `opts.brands` is accepted
 * for callers of the earlier fixed-list version and no longer needed.
 * @returns one report per migrated directory (empty when there was nothing to migrate)
 * @throws what MemoryStore.open throws on a damaged legacy file (the start stops: nothing is lost)
 */
export async function migrateLegacyMirror(
  dir: string, target: LmdbStore, opts: { brands?: readonly number[]; onProgress?: MigrationProgress; warn?: (m: string) => void } = {},
): Promise<MigrationReport[]> {
  const present = LEGACY_FILES.filter((f) => existsSync(join(dir, f)));
  if (present.length > 0) {
    const moved = join(dir, `${MOVED_PREFIX}${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, 'Z')}`);
    mkdirSync(moved, { recursive: true });
    for (const f of present) renameSync(join(dir, f), join(moved, f));
    fsyncDir(moved);
    fsyncDir(dir);
  }
  const reports: MigrationReport[] = [];
  for (const name of await pendingMoved(dir, target)) reports.push(await migrateOne(join(dir, name), name, target, opts));
  return reports;
}

async function migrateOne(
  moved: string, name: string, target: LmdbStore, opts: { brands?: readonly number[]; onProgress?: MigrationProgress; warn?: (m: string) => void },
): Promise<MigrationReport> {
  const started = Date.now();
  // MemoryStore may compact or repair what it opens: it reads a scratch copy, the moved files stay as they are
  const scratch = join(moved, '.reading');
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch);
  for (const f of LEGACY_FILES) if (existsSync(join(moved, f))) copyFileSync(join(moved, f), join(scratch, f));
  const old = new MemoryStore({ dataDir: scratch, warn: opts.warn });
  await old.open();
  let records = 0;
  let history = 0;
  let meta = 0;
  try {
    const total = await old.size();
    let batch: { record: Movement; older: Movement[] }[] = [];
    opts.onProgress?.(0, total);
    for await (const rec of old.iterate()) {
      const all = await old.history(rec);
      const older = all.slice(1);
      history += older.length;
      batch.push({ record: rec, older });
      if (batch.length >= STATES_PER_TXN) {
        await target.putStates(batch);
        records += batch.length;
        batch = [];
        opts.onProgress?.(records, total);
      }
    }
    if (batch.length > 0) await target.putStates(batch);
    records += batch.length;
    opts.onProgress?.(records, total);
    for (const [m, v] of old.metaEntries()) { await target.setMeta(m, v); meta++; }
  } finally {
    await old.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  await target.setMeta(`migration.${name}`, 'done');
  return { movedTo: moved, records, history, meta, seconds: (Date.now() - started) / 1000 };
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}
