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
  simulator                      start the İYS simulator (same as npm run simulator)

Options:
  --config FILE                  configuration file (JSON or YAML); env IYS_GATE_CONFIG
  --no-progress                  no progress bar
  -h, --help                     this text
`;

/** The `iys-gate` command. Thin: parses arguments and calls into the modules. */
export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      config: { type: 'string' }, 'brand-code': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      'no-progress': { type: 'boolean' },
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
    await sim.startSimulator({});
    return -1;
  }
  if (cmd === 'import') {
    const file = rest[0];
    const brand = Number(values['brand-code']);
    if (!file || !Number.isInteger(brand) || brand <= 0) { process.stderr.write('usage: iys-gate import FILE --brand-code N\n'); return 2; }
    const config = loadConfig({ file: values.config });
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
        brandCode: brand, store, onProgress: () => bar?.update(read),
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
  process.stderr.write(`unknown command: ${cmd}\n${USAGE}`);
  return 2;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  main(process.argv.slice(2)).then((code) => { if (code >= 0) process.exitCode = code; }, (err: Error & { code?: string }) => {
    process.stderr.write(`iys-gate: ${err.code ?? 'error'}: ${err.message}\n`);
    process.exitCode = 1;
  });
}
