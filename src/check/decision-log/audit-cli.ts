import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.ts';
import type { GatewayConfig } from '../../config/schema.ts';
import type { ConsentStore } from '../../mirror/consent-store.ts';
import { openStore } from '../../mirror/open-store.ts';
import { servedBrandsOf } from '../../plugins/auth.ts';
import { MOVEMENTS_CSV_HEADER, complaintKeys, complaintMovements, movementCsvLine } from './export-movements.ts';
import type { ConsentType } from '../../domain/types.ts';
import { DECISIONS_CSV_HEADER, decisionCsvLine } from '../../routes/v1/decisions.ts';
import { decisionDir, decisionKeys } from './open-log.ts';
import { queryDecisions, type Cursor, type DecisionQuery, type FoundDecision } from './reader.ts';
import { verifyDecisionLogs } from './verify.ts';

export const AUDIT_USAGE = `iys-gate audit <query|export|verify> [options]   (offline: reads the decision directories)

  audit query [--dir DIR]… [--recipient R] [--type T] [--brand-code N] [--from T] [--to T]
              [--decision ALLOW|BLOCK] [--reason R] [--entrance E] [--limit N] [--csv]
        decisions newest first as JSON lines (or CSV); DIR defaults to <dataDir>/decisions
        plus decisions.readDirs; times ISO 8601 or epoch ms
  audit export --recipient R --from T --to T --out FILE.csv [--dir DIR]… [--type T] [--brand-code N]
        a complaint file: every decision about R in the range with the consent it used
        (recipients in clear only when decisions.encryptionKey is configured), then, after an
        empty line, the movements of R's keys as the mirror applied them up to --to (movement
        history; the one in force at --from marked); reads the mirror of the configuration,
        read-only beside a running gateway on LMDB
  audit verify [DIR…]
        walks every hash chain; prints "ok" with counts, or the first broken record; exit 1 on a break
`;

function time(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^\d{10,15}$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw new Error(`--${name}: an ISO 8601 time or epoch ms`);
  return ms;
}

/** `iys-gate audit …`. @returns the exit code (0 ok, 1 a chain break, 2 usage) */
export async function auditMain(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      config: { type: 'string' }, dir: { type: 'string', multiple: true }, recipient: { type: 'string' }, type: { type: 'string' },
      'brand-code': { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, decision: { type: 'string' }, reason: { type: 'string' },
      entrance: { type: 'string' }, limit: { type: 'string' }, csv: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const [sub, ...dirsArg] = positionals;
  if (values.help || !sub) { out.write(AUDIT_USAGE); return sub || values.help ? 0 : 2; }
  const config = loadConfig({ file: values.config });
  const dirs = values.dir ?? (sub === 'verify' && dirsArg.length > 0 ? dirsArg : [decisionDir(config), ...config.decisions.readDirs]);
  if (sub === 'verify') {
    const t0 = performance.now();
    const r = verifyDecisionLogs(dirs);
    const s = (performance.now() - t0) / 1000;
    for (const w of r.warnings) err.write(`warning: ${w}\n`);
    if (!r.ok) {
      for (const b of r.breaks) out.write(`BROKEN ${b.dir}/${b.file}${b.record !== null ? ` record ${b.record}` : ''}${b.offset !== null ? ` byte ${b.offset}` : ''}: ${b.what}\n`);
      return 1;
    }
    out.write(`ok: ${r.dirs} director${r.dirs === 1 ? 'y' : 'ies'}, ${r.segments} segments, ${r.blocks} blocks, ${r.records} records (${r.removed} segments removed by retention) in ${s.toFixed(2)} s\n`);
    return 0;
  }
  if (sub !== 'query' && sub !== 'export') { err.write(AUDIT_USAGE); return 2; }
  const keys = decisionKeys(config, false);
  const q: DecisionQuery = {
    recipient: values.recipient, type: values.type as ConsentType | undefined, brandCode: values['brand-code'] ? Number(values['brand-code']) : undefined,
    fromMs: time(values.from, 'from'), toMs: time(values.to, 'to'), decision: values.decision as 'ALLOW' | 'BLOCK' | undefined, reason: values.reason, entrance: values.entrance,
  };
  if (sub === 'export' && (!q.recipient || q.fromMs === undefined || q.toMs === undefined || !values.out)) {
    err.write('usage: iys-gate audit export --recipient R --from T --to T --out FILE.csv\n'); return 2;
  }
  const encryptionKey = keys.encryption?.key;
  const limit = values.limit ? Number(values.limit) : Infinity;
  const brandsSeen = new Set<number>();
  const write = sub === 'export' ? createWriteStream(values.out!) : out;
  const csv = sub === 'export' || values.csv === true;
  if (csv) write.write(DECISIONS_CSV_HEADER);
  let cursor: Cursor | null = null;
  let n = 0;
  for (;;) {
    const page: { decisions: FoundDecision[]; next: Cursor | null } = queryDecisions(dirs, q, { hmacKeys: keys.hmacKeys, encryptionKey }, { limit: Math.min(10_000, limit - n), cursor });
    for (const d of page.decisions) { write.write(csv ? decisionCsvLine(d) : JSON.stringify(d) + '\n'); brandsSeen.add(d.brandCode); }
    n += page.decisions.length;
    if (!page.next || n >= limit || page.decisions.length === 0) break;
    cursor = page.next;
  }
  if (sub === 'export') {
    const file = write as ReturnType<typeof createWriteStream>;
    let moved = 0;
    let failure: string | null = null;
    try {
      // the movements of the recipient's keys: of --brand-code, else of every brand served and seen
      const brands = q.brandCode !== undefined ? [q.brandCode] : [...new Set([...servedBrandsOf(config), ...brandsSeen])].sort((a, b) => a - b);
      const store = await openMirrorReadable(config);
      try {
        const rows = await complaintMovements(store, complaintKeys(q.recipient!, brands, q.type), q.fromMs!, q.toMs!);
        file.write('\n' + MOVEMENTS_CSV_HEADER);
        for (const r of rows) file.write(movementCsvLine(r));
        moved = rows.length;
      } finally {
        await store.close();
      }
    } catch (e) {
      failure = (e as Error).message;
    }
    await new Promise<void>((resolve, reject) => { file.once('error', reject); file.end(() => resolve()); });
    if (failure !== null) {
      err.write(`${n} decisions written to ${values.out}; the movements could not be read from the mirror: ${failure}\n`);
      return 1;
    }
    err.write(`${n} decisions and ${moved} movements written to ${values.out}\n`);
  }
  return 0;
}

/**
 * The configured mirror, opened for reading by an offline tool: as the gateway opens it, or, when
 * a running gateway holds the directory lock of an LMDB mirror, read-only beside it.
 * @throws GW_ERR_DATA_DIR_LOCKED for a locked memory-store mirror (stop the gateway, or ask it:
 *   GET /v1/consents?at=); GW_ERR_STORE_UNAVAILABLE as openStore
 */
async function openMirrorReadable(config: GatewayConfig): Promise<ConsentStore> {
  try {
    return await openStore(config, () => undefined);
  } catch (e) {
    if ((e as { code?: string }).code !== 'GW_ERR_DATA_DIR_LOCKED' || config.redisUrl || config.store !== 'lmdb') throw e;
    const { LmdbStore } = await import('../../mirror/lmdb-store.ts');
    const store = new LmdbStore({ dataDir: join(config.dataDir, 'mirror'), readOnly: true });
    await store.open();
    return store;
  }
}
