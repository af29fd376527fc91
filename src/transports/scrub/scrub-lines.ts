import type { CheckService } from '../../check/check-service.ts';
import type { ConsentType, MessageType, RecipientType } from '../../domain/types.ts';
import { normalizeRecipient } from '../../domain/recipient.ts';

/** What to check every line against (query of `POST /v1/scrub`, flags of `iys-gate scrub`). */
export interface ScrubOptions {
  brandCode: number;
  type: ConsentType;
  messageType: MessageType;
  recipientType: RecipientType;
  /** false: only allowed lines, unchanged; true: every line + `,<decision>,<reason>`. */
  annotate: boolean;
  /** Lines per batched lookup. Default 4,096. */
  batchSize?: number;
}

/** Running counts of a scrub (updated as output is produced). */
export interface ScrubStats { lines: number; allowed: number; blocked: number; header: boolean }

/**
 * The recipient of a list line: the whole line for a plain list, else the first CSV field
 * (separator `,`, `;` or tab; surrounding double quotes removed).
 */
export function recipientOfLine(line: string): string {
  let end = line.length;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 44 || c === 59 || c === 9) { end = i; break; } // , ; \t
  }
  let f = line.slice(0, end).trim();
  if (f.length >= 2 && f.startsWith('"') && f.endsWith('"')) f = f.slice(1, -1).trim();
  return f;
}

/**
 * Streams a call list (CSV or one recipient per line; LF or CRLF; any size) and yields output
 * chunks: allowed lines as they were, or every line annotated. A first line whose recipient field
 * is not a recipient but a word (e.g. `phone,name`) is a header: echoed (annotated: with
 * `,decision,reason`). Blank lines are skipped. Memory is bounded by `batchSize` lines plus one
 * input chunk: each batch is decided with one CheckService.checkBatch lookup.
 * @param stats updated in place (progress bars, summaries)
 */
export async function* scrubLines(source: AsyncIterable<Buffer | string>, checks: CheckService, opts: ScrubOptions, stats: ScrubStats = { lines: 0, allowed: 0, blocked: 0, header: false }): AsyncGenerator<string> {
  const size = opts.batchSize ?? 4096;
  const req = { brandCode: opts.brandCode, type: opts.type, recipientType: opts.recipientType, messageType: opts.messageType };
  let lines: string[] = [];
  let first = true;
  let rest = '';

  async function* flush(): AsyncGenerator<string> {
    if (lines.length === 0) return;
    const batch = lines;
    lines = [];
    const { results } = await checks.checkBatch(req, batch.map(recipientOfLine));
    let out = '';
    for (let i = 0; i < batch.length; i++) {
      const r = results[i]!;
      if (r.decision === 'ALLOW') stats.allowed++; else stats.blocked++;
      if (opts.annotate) out += `${batch[i]},${r.decision},${r.reason}\n`;
      else if (r.decision === 'ALLOW') out += batch[i] + '\n';
    }
    stats.lines += batch.length;
    if (out) yield out;
  }

  const take = (line: string): string | null => {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') return null;
    if (first) {
      first = false;
      const f = recipientOfLine(line);
      if (/[a-zA-Z]/.test(f) && !f.includes('@') && !normalizeRecipient(f, opts.type).ok) {
        stats.header = true;
        return opts.annotate ? `${line},decision,reason\n` : line + '\n';
      }
    }
    lines.push(line);
    return null;
  };

  for await (const chunk of source) {
    const text = rest + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      const h = take(text.slice(start, nl));
      if (h) yield h;
      start = nl + 1;
      if (lines.length >= size) yield* flush();
    }
    rest = text.slice(start);
  }
  if (rest) { const h = take(rest); if (h) yield h; }
  yield* flush();
}
