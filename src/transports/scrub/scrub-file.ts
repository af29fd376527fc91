import { createReadStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { SingleBar, Presets } from 'cli-progress';
import type { CheckService } from '../../check/check-service.ts';
import { scrubLines, type ScrubOptions, type ScrubStats } from './scrub-lines.ts';

/**
 * `iys-gate scrub FILE`: scrubs a call list file to `out` (stdout by default), with a progress
 * bar on stderr (bytes read) when `progress` is true. Same decisions and output as `POST /v1/scrub`
 * (allowed records as their original bytes, in the file's own charset `opts.charset`).
 * @returns the final counts
 * @throws GW_ERR_SCRUB_LINE_TOO_LONG, GW_ERR_UNSUPPORTED_CHARSET (scrub-lines.ts); what was
 *   written to `out` before is the scrubbed part of the list before the fault
 */
export async function scrubFile(file: string, checks: CheckService, opts: ScrubOptions & { out?: NodeJS.WritableStream; progress?: boolean }): Promise<ScrubStats> {
  const out = opts.out ?? process.stdout;
  const total = statSync(file).size;
  const input = createReadStream(file, { highWaterMark: 256 * 1024 });
  const bar = opts.progress ? new SingleBar({ format: 'scrub [{bar}] {percentage}% | {lines} lines | {allowed} allowed | {blocked} blocked', stream: process.stderr }, Presets.shades_classic) : null;
  const stats: ScrubStats = { lines: 0, allowed: 0, blocked: 0, header: false };
  bar?.start(total, 0, { lines: 0, allowed: 0, blocked: 0 });
  try {
    for await (const chunk of scrubLines(input, checks, opts, stats)) {
      if (!out.write(chunk)) await once(out, 'drain');
      bar?.update(input.bytesRead, { lines: stats.lines, allowed: stats.allowed, blocked: stats.blocked });
    }
    bar?.update(total, { lines: stats.lines, allowed: stats.allowed, blocked: stats.blocked });
  } finally {
    bar?.stop();
    input.destroy();
  }
  return stats;
}
