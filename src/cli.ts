import { assertServedBrand, servedBrandsOf } from './plugins/auth.ts';
import { createReadStream, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Transform } from 'node:stream';
import { loadConfig } from './config/load.ts';
import { importCsv } from './mirror/importer.ts';
import { openStore } from './mirror/open-store.ts';

const USAGE = `iys-gate <command> [options]

Commands:
  serve                          start the gateway (same as npm start)
  import FILE --brand-code N     load an İYS CSV (daily movement file or upload layout) into the mirror
  simulator [--config FILE]      start the İYS simulator (same as npm run simulator); FILE: its
                                 options (src/simulator/README.md), e.g. {"pushAllowHttp": true}
  scrub FILE --brand-code N --type T [--message-type TICARI|BILGILENDIRME] [--recipient-type BIREYSEL|TACIR] [--annotate]
        [--charset utf-8|windows-1254|iso-8859-9] [--header auto|true|false] [--delimiter auto|,|;|tab]
                                 stream a call list to stdout keeping only allowed recipients,
                                 each line as its original bytes (every line with its decision
                                 with --annotate)
  upload FILE --brand-code N     validate a consent list (İYS upload layout) with İYS's rules and
                                 register it in İYS; resumable; report in FILE.report.csv
  migrate                        move a mirror of the memory store (journal.log + snapshot.log) into
                                 the LMDB store, with a progress bar (a start with store=lmdb does
                                 the same; the old files are kept in mirror/legacy-memory-store-*)
  audit query|export|verify      the decision log, offline (iys-gate audit --help; README "Proving decisions")
  sync status                    state of every brand (cursor, last pull, lag) and the outbox,
                                 from the running gateway (--url, default http://127.0.0.1:$IYS_GATE_PORT;
                                 key from IYS_GATE_API_KEY)

Options:
  --config FILE                  configuration file (JSON or YAML); env IYS_GATE_CONFIG
  --no-progress                  no progress bar
  -h, --help                     this text
`;

/** The `iys-gate` command. Thin: parses arguments and calls into the modules. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'audit') return (await import('./check/decision-log/audit-cli.ts')).auditMain(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      config: { type: 'string' }, 'brand-code': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      'no-progress': { type: 'boolean' }, url: { type: 'string' }, type: { type: 'string' }, 'message-type': { type: 'string' },
      'recipient-type': { type: 'string' }, annotate: { type: 'boolean' }, 'poll-every-ms': { type: 'string' },
      charset: { type: 'string' }, header: { type: 'string' }, delimiter: { type: 'string' },
    },
  });
  const [cmd, ...rest] = positionals;
  if (values.help || !cmd) { process.stdout.write(USAGE); return cmd || values.help ? 0 : 2; }
  if (cmd === 'serve') {
    const { serve } = await import('./server.ts');
    await serve({ configFile: values.config });
    return -1; // keep running
  }
  if (cmd === 'simulator') {
    const sim = await import('./simulator/index.ts');
    // simulator options (src/simulator/config.ts: accounts, pushAllowHttp, batchDelayMs, …) from
    // --config FILE or IYS_GATE_SIM_CONFIG, JSON or YAML
    const file = values.config ?? process.env.IYS_GATE_SIM_CONFIG;
    let opts: Record<string, unknown> = {};
    if (file) {
      const { readFileSync } = await import('node:fs');
      const { parse } = await import('yaml');
      const text = readFileSync(file, 'utf8');
      opts = (/\.ya?ml$/i.test(file) ? parse(text) : JSON.parse(text)) as Record<string, unknown>;
    }
    const started = await sim.startSimulator(opts);
    process.stdout.write(sim.simulatorBanner(started) + '\n');
    return -1;
  }
  if (cmd === 'import') {
    const file = rest[0];
    const brand = Number(values['brand-code']);
    if (!file || !Number.isInteger(brand) || brand <= 0) { process.stderr.write('usage: iys-gate import FILE --brand-code N\n'); return 2; }
    const config = loadConfig({ file: values.config });
    assertServedBrand(brand, servedBrandsOf(config)); // a typo'd --brand-code is GW_ERR_UNKNOWN_BRAND, not a silent load
    const store = await openStore(config);
    const total = statSync(file).size;
    const progress = !values['no-progress'] && process.stderr.isTTY;
    let bar: { start(t: number, v: number): void; update(v: number): void; stop(): void } | null = null;
    if (progress) {
      const { SingleBar, Presets } = await import('cli-progress');
      bar = new SingleBar({ format: 'import [{bar}] {percentage}% | {value}/{total} bytes | {eta}s left' }, Presets.shades_classic);
      bar.start(total, 0);
    }
    let read = 0;
    const counter = new Transform({ transform(chunk: Buffer, _e, cb) { read += chunk.length; cb(null, chunk); } });
    const started = Date.now();
    try {
      const report = await importCsv(createReadStream(file).pipe(counter), {
        // the same threaded path as POST /v1/mirror/import: parse on one worker, LMDB writes on another
        brandCode: brand, store, parser: config.importParser, onProgress: () => bar?.update(read),
      });
      bar?.update(total);
      bar?.stop();
      await store.setMeta('mirror.freshAt', String(Date.now()));
      const secs = (Date.now() - started) / 1000;
      process.stdout.write(JSON.stringify({ ...report, seconds: secs, rowsPerSecond: Math.round(report.rows / secs) }, null, 2) + '\n');
      return report.rejected > 0 ? 1 : 0;
    } finally {
      bar?.stop();
      await store.close();
    }
  }
  if (cmd === 'migrate') {
    const config = { ...loadConfig({ file: values.config }), store: 'lmdb' as const };
    if (config.redisUrl) { process.stderr.write('iys-gate migrate: the embedded store only (unset IYS_GATE_REDIS_URL)\n'); return 2; }
    let bar: { start(t: number, v: number): void; update(v: number): void; stop(): void } | null = null;
    const cp = !values['no-progress'] && process.stderr.isTTY ? await import('cli-progress') : null;
    const store = await openStore(config, undefined, {
      onMigrationProgress: (done, total) => {
        if (!cp) { process.stderr.write(`migration ${done}/${total} records\n`); return; }
        if (!bar) {
          bar = new cp.SingleBar({ format: 'migrate [{bar}] {percentage}% | {value}/{total} records | {eta}s left' }, cp.Presets.shades_classic);
          bar.start(total, 0);
        }
        bar.update(done);
      },
    }).finally(() => bar?.stop());
    const size = await store.size();
    await store.close();
    process.stdout.write(JSON.stringify({ store: 'lmdb', records: size }) + '\n');
    return 0;
  }
  if (cmd === 'scrub') {
    const file = rest[0];
    const brand = Number(values['brand-code']);
    const type = values.type;
    const mt = values['message-type'] ?? 'TICARI';
    const rt = values['recipient-type'] ?? 'BIREYSEL';
    const header = values.header ?? 'auto';
    const delimiter = ({ auto: 'auto', ',': ',', comma: ',', ';': ';', semicolon: ';', tab: '\t', '\t': '\t' } as const)[values.delimiter ?? 'auto'];
    if (!file || !Number.isInteger(brand) || brand <= 0 || !['MESAJ', 'ARAMA', 'EPOSTA'].includes(type ?? '')
      || !['TICARI', 'BILGILENDIRME'].includes(mt) || !['BIREYSEL', 'TACIR'].includes(rt)
      || !['auto', 'true', 'false'].includes(header) || delimiter === undefined) {
      process.stderr.write('usage: iys-gate scrub FILE --brand-code N --type MESAJ|ARAMA|EPOSTA [--message-type TICARI|BILGILENDIRME] [--recipient-type BIREYSEL|TACIR] [--annotate] [--charset utf-8|windows-1254|iso-8859-9] [--header auto|true|false] [--delimiter auto|,|;|tab]\n');
      return 2;
    }
    const { scrubCharset } = await import('./transports/scrub/charset.ts');
    const charset = scrubCharset(values.charset ?? 'utf-8'); // GW_ERR_UNSUPPORTED_CHARSET names the accepted ones
    const config = loadConfig({ file: values.config });
    assertServedBrand(brand, servedBrandsOf(config)); // a typo'd --brand-code is GW_ERR_UNKNOWN_BRAND, not a silent load
    const store = await openStore(config);
    try {
      const { CheckService } = await import('./check/check-service.ts');
      const { scrubFile } = await import('./transports/scrub/scrub-file.ts');
      const checks = new CheckService({ store, policy: { tacirWithoutRecord: config.policy.tacirWithoutRecord, tacirOverBireyselRet: config.policy.tacirOverBireyselRet }, mirrorMaxAgeMs: config.mirrorMaxAgeMs ?? (config.iys ? 7_200_000 : 0) });
      const freshAt = await store.getMeta('mirror.freshAt');
      if (freshAt) checks.markFresh(Number(freshAt));
      const stats = await scrubFile(file, checks, {
        brandCode: brand, type: type as 'MESAJ', messageType: mt as 'TICARI', recipientType: rt as 'BIREYSEL',
        annotate: values.annotate ?? false, progress: !values['no-progress'] && process.stderr.isTTY,
        charset, header: header as 'auto', delimiter, maxRecordBytes: config.scrubMaxRecordBytes,
      });
      process.stderr.write(JSON.stringify(stats) + '\n');
      return 0;
    } finally {
      await store.close();
    }
  }
  if (cmd === 'sync' && rest[0] === 'status') {
    const cfg = loadConfig({ file: values.config });
    const url = values.url ?? `http://${cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host}:${cfg.port}`;
    const key = process.env.IYS_GATE_API_KEY;
    if (!key) { process.stderr.write('set IYS_GATE_API_KEY to a key with the outbox scope\n'); return 2; }
    const res = await fetch(`${url}/v1/sync/status`, { headers: { authorization: `Bearer ${key}` } }).catch((err: Error & { cause?: { code?: string } }) => {
      throw Object.assign(new Error(`no gateway answers at ${url} (${err.cause?.code ?? err.message}); give --url or the config the gateway runs with`), { code: 'GW_ERR_UNREACHABLE' });
    });
    const body = await res.json() as {
      iysConfigured: boolean; asOf: string | null; stale: boolean; brands: Array<Record<string, unknown>>; outbox: Record<string, unknown>;
      deadLetters?: { open: number; recorded: number; resolved: number; openByReason: Record<string, number>; items: Array<{ brandCode: number | null; via: string; reason: string; field: string; at: string; raw: Record<string, unknown> }> };
      clock?: { iysSkewMs: number | null; warnBoundMs: number | null };
      optoutReview?: { open: number; overdue: number };
    };
    if (!res.ok) { process.stderr.write(`${res.status}: ${JSON.stringify(body)}\n`); return 1; }
    const out = [`İYS configured: ${body.iysConfigured}   mirror asOf: ${body.asOf ?? 'never'}${body.stale ? '   STALE' : ''}`];
    for (const b of body.brands) {
      const c = b.cursors as { HS: string | null; IYS: string | null };
      out.push(`brand ${b.brandCode}: last pull ${b.lastPullAt ? new Date(b.lastPullAt as number).toISOString() : 'never'} (lag ${b.lagSeconds ?? '-'} s)  cursors HS=${c.HS ?? '-'} IYS=${c.IYS ?? '-'}  pulled ${b.pulledMovements}${b.deadLetters ? `  dead letters ${b.deadLetters}` : ''}${b.gap ? '  GAP: resync needed' : ''}${b.lastError ? `  last error ${(b.lastError as { code: string }).code}` : ''}`);
    }
    const o = body.outbox;
    out.push(`outbox: ${o.pending} pending, ${o.submitted} submitted, ${o.failed} failed, ${o.overdue} overdue; nearest deadline ${o.nearestDeadline ?? '-'}${o.secondsToNearestDeadline != null ? ` (${Math.round(Number(o.secondsToNearestDeadline) / 3600)} h left)` : ''}`);
    const d = body.deadLetters;
    if (d) {
      const by = Object.entries(d.openByReason).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`).join(', ');
      out.push(`dead letters: ${d.open} open${by ? ` (${by})` : ''}, ${d.resolved} applied on retry, ${d.recorded} recorded`);
      for (const l of d.items.slice(0, 20)) {
        out.push(`  ${l.at} brand ${l.brandCode ?? '-'} ${l.via} ${l.reason} (${l.field}): ${l.raw.status ?? '?'} ${l.raw.type ?? '?'} ${l.raw.recipient ?? '?'} consentDate ${l.raw.consentDate ?? '-'}`);
      }
    }
    if (body.optoutReview) out.push(`opt-out replies for review: ${body.optoutReview.open} open, ${body.optoutReview.overdue} overdue (past one business day; GET /v1/optouts/review)`);
    const c = body.clock;
    if (c && c.iysSkewMs !== null) {
      out.push(`clock skew against İYS: ${(c.iysSkewMs / 1000).toFixed(1)} s${c.warnBoundMs !== null && Math.abs(c.iysSkewMs) > c.warnBoundMs ? '  WARNING: past the bound (iys.clockSkewWarnMs); check NTP' : ''}`);
    }
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  }
  if (cmd === 'upload') {
    const file = rest[0];
    const brand = Number(values['brand-code']);
    if (!file || !Number.isInteger(brand) || brand <= 0) { process.stderr.write('usage: iys-gate upload FILE --brand-code N\n'); return 2; }
    const config = loadConfig({ file: values.config });
    assertServedBrand(brand, servedBrandsOf(config)); // a typo'd --brand-code is GW_ERR_UNKNOWN_BRAND, not a silent load
    if (!config.iys) { process.stderr.write('iys-gate upload needs the `iys` account in the configuration\n'); return 2; }
    const { IysClient } = await import('./iys/client.ts');
    const { bulkUpload } = await import('./iys/bulk-upload.ts');
    const client = new IysClient({ baseUrl: config.iys.baseUrl, iysCode: config.iys.iysCode, username: config.iys.username, password: config.iys.password, timeoutMs: config.iys.requestTimeoutMs });
    let store = null;
    try { store = await openStore(config); } catch (err) {
      process.stderr.write(`iys-gate: warning: mirror not opened (${(err as Error).message}); state rules H174/H175/H178 are left to İYS\n`);
    }
    let bar: { start(t: number, v: number, p?: object): void; update(v: number, p?: object): void; setTotal(t: number): void; stop(): void } | null = null;
    if (!values['no-progress'] && process.stderr.isTTY) {
      const { SingleBar, Presets } = await import('cli-progress');
      bar = new SingleBar({ format: 'upload [{bar}] validated {validated} | sent {sent} | confirmed {value}/{total}' }, Presets.shades_classic);
      bar.start(1, 0, { validated: 0, sent: 0 });
    }
    try {
      const summary = await bulkUpload(createReadStream(file), {
        brandCode: brand, client, store, statePath: `${file}.upload-state.json`, reportPath: `${file}.report.csv`,
        pollEveryMs: Number(values['poll-every-ms'] ?? config.iys.batchPollAfterMs),
        onProgress: (p) => { bar?.setTotal(Math.max(p.total, 1)); bar?.update(p.confirmed, { validated: p.validated, sent: p.sent }); },
      });
      bar?.stop();
      process.stdout.write(JSON.stringify({ ...summary, report: `${file}.report.csv` }, null, 2) + '\n');
      return summary.failed + summary.invalid > 0 ? 1 : 0;
    } finally {
      bar?.stop();
      await store?.close();
    }
  }
  process.stderr.write(`unknown command: ${cmd}\n${USAGE}`);
  return 2;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  main(process.argv.slice(2)).then((code) => { if (code >= 0) process.exitCode = code; }, (err: Error & { code?: string }) => {
    const code = err.code ?? 'error';
    process.stderr.write(`iys-gate: ${err.message.startsWith(`${code}:`) ? '' : `${code}: `}${err.message}\n`);
    process.exitCode = 1;
  });
}
