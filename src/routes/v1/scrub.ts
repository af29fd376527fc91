import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ConsentType, MessageType, RecipientType } from '../../domain/types.ts';
import { requireBrand } from '../../plugins/auth.ts';
import { charsetOfContentType } from '../../transports/scrub/charset.ts';
import type { Delimiter } from '../../transports/scrub/csv-records.ts';
import { CallListScrub, HEADER_MODES, LIST_FORMATS, type HeaderMode, type ListFormat, type ScrubStats } from '../../transports/scrub/scrub-lines.ts';
import { bodyStream, CSV_MEDIA_TYPES, takeStreamedBodies } from '../csv-body.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse } from '../schemas.ts';

type DelimiterParam = Delimiter | 'tab' | 'comma' | 'semicolon' | 'auto';
interface ScrubQuery { brandCode?: number; type: ConsentType; messageType: MessageType; recipientType: RecipientType; annotate: boolean; header?: HeaderMode; delimiter: DelimiterParam; column?: string; format: ListFormat }

const DELIMITER_NAMES: Record<DelimiterParam, Delimiter | 'auto'> = { ',': ',', ';': ';', '\t': '\t', comma: ',', semicolon: ';', tab: '\t', auto: 'auto' };

const scrubQuery = {
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: {
    brandCode: { type: 'integer', minimum: 1 },
    type: { type: 'string', enum: ['MESAJ', 'ARAMA', 'EPOSTA'] },
    messageType: { type: 'string', enum: ['TICARI', 'BILGILENDIRME'], default: 'TICARI' },
    recipientType: { type: 'string', enum: ['BIREYSEL', 'TACIR'], default: 'BIREYSEL' },
    annotate: { type: 'boolean', default: false },
    header: { type: 'string', enum: [...HEADER_MODES], description: 'auto (default; format=goautodial: true)' },
    delimiter: { type: 'string', enum: Object.keys(DELIMITER_NAMES), default: 'auto' },
    column: { type: 'string', minLength: 1, maxLength: 64, description: "the recipient's column: a 1-based position or a header name (default: the first field)" },
    format: { type: 'string', enum: Object.keys(LIST_FORMATS), default: 'generic', description: "a dialer's list layout (vicidial: phone_number, the 5th field; goautodial: the 1st field, first record the header)" },
  },
} as const;

/** The output chunks: `first` (already pulled), then the rest of `it`. */
async function* resume(first: IteratorResult<Buffer>, it: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  if (first.done) return;
  yield first.value;
  yield* { [Symbol.asyncIterator]: () => it };
}

/**
 * `POST /v1/scrub?brandCode=&type=&messageType=&recipientType=&annotate=&header=&delimiter=`
 * (Bearer key, scope `check`): the body is a call list (CSV or one recipient per line, `text/csv`
 * or `text/plain`, `charset` utf-8 (default), windows-1254 or iso-8859-9, streamed, up to
 * `importBodyLimitBytes`); the answer streams back in the list's own charset the allowed records
 * byte for byte (line breaks as sent), or with `annotate=true` every record + `,DECISION,REASON`.
 * `header` (auto|true|false) and `delimiter` (`,` `;` tab, auto): scrub-lines.ts. The answer
 * starts once the first batch is decided: a fault there is a coded 4xx
 * (GW_ERR_SCRUB_LINE_TOO_LONG 400, GW_ERR_UNSUPPORTED_CHARSET 415); a fault later aborts the
 * response (no final chunk), so a partial list never reads as complete.
 */
export async function scrubRoutes(app: FastifyInstance, deps: Pick<RouteDeps, 'config' | 'checks' | 'servedBrands'>): Promise<void> {
  app.register(async (scope) => {
    takeStreamedBodies(scope, [...CSV_MEDIA_TYPES, 'application/octet-stream']);
    scope.post<{ Querystring: ScrubQuery }>('/v1/scrub', {
      config: { scope: 'check' },
      bodyLimit: deps.config.importBodyLimitBytes,
      schema: {
        summary: 'Scrub a call list: stream back the allowed recipients (or every line annotated)', tags: ['check'],
        querystring: scrubQuery, consumes: [...CSV_MEDIA_TYPES, 'application/octet-stream'], response: { '4xx': errorResponse },
      },
    }, async (req, reply) => {
      const q = req.query;
      const brandCode = requireBrand(req, q.brandCode, deps.servedBrands);
      const charset = charsetOfContentType(req.headers['content-type']);
      const stats: ScrubStats = { lines: 0, allowed: 0, blocked: 0, header: false };
      const body = bodyStream(req);
      // one request-level id for the whole list (X-IYS-Gate-Decision-Id), known before the first batch
      const log = deps.checks.decisions;
      const record = log && log.mode === 'all' ? { entrance: 'scrub' as const, via: '', keyName: req.principal!.name, seq: log.newSeq() } : undefined;
      const scrub = new CallListScrub(deps.checks, {
        record,
        brandCode, type: q.type, messageType: q.messageType, recipientType: q.recipientType, annotate: q.annotate,
        charset, header: q.header, delimiter: DELIMITER_NAMES[q.delimiter], maxRecordBytes: deps.config.scrubMaxRecordBytes,
        column: q.column, format: q.format,
      }, stats);
      const it = scrub.run(body);
      let first: IteratorResult<Buffer>;
      try {
        first = await it.next();
      } catch (err) {
        reply.header('connection', 'close'); // do not read the rest of a refused body
        throw err;
      }
      const out = Readable.from(resume(first, it), { objectMode: false });
      out.on('end', () => req.log.info({ scrub: stats }, 'scrub done'));
      out.on('error', (err) => req.log.warn({ err, scrub: stats }, 'scrub aborted after the answer began'));
      reply.type(`text/plain; charset=${scrub.charset}`).header('cache-control', 'no-store');
      if (log && record) reply.header('x-iys-gate-decision-id', log.idOf(record.seq));
      return reply.send(out);
    });
  });
}

export default scrubRoutes;
