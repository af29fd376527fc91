import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ConsentType, MessageType, RecipientType } from '../../domain/types.ts';
import { requireBrand } from '../../plugins/auth.ts';
import { scrubLines, type ScrubStats } from '../../transports/scrub/scrub-lines.ts';
import { bodyStream, CSV_MEDIA_TYPES, takeStreamedBodies } from '../csv-body.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse } from '../schemas.ts';

interface ScrubQuery { brandCode?: number; type: ConsentType; messageType: MessageType; recipientType: RecipientType; annotate: boolean }

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
  },
} as const;

/**
 * `POST /v1/scrub?brandCode=&type=&messageType=&recipientType=&annotate=` (Bearer key, scope
 * `check`): the body is a call list (CSV or one recipient per line, `text/csv` or `text/plain`,
 * streamed, up to `importBodyLimitBytes`); the answer streams back (`text/plain; charset=utf-8`)
 * the allowed lines unchanged, or with `annotate=true` every line + `,<decision>,<reason>`. Counts
 * are logged; the stream is never buffered whole (memory flat on millions of lines).
 */
export async function scrubRoutes(app: FastifyInstance, deps: Pick<RouteDeps, 'config' | 'checks' | 'servedBrands'>): Promise<void> {
  app.register(async (scope) => {
    takeStreamedBodies(scope, [...CSV_MEDIA_TYPES, 'application/octet-stream']);
    scope.post<{ Querystring: ScrubQuery }>('/v1/scrub', {
      config: { scope: 'check' },
      bodyLimit: deps.config.importBodyLimitBytes,
      schema: {
        summary: 'Scrub a call list: stream back the allowed recipients (or every line annotated)', tags: ['check'],
        querystring: scrubQuery, consumes: ['text/csv', 'text/plain'], response: { '4xx': errorResponse },
      },
    }, async (req, reply) => {
      const q = req.query;
      const brandCode = requireBrand(req, q.brandCode, deps.servedBrands);
      const stats: ScrubStats = { lines: 0, allowed: 0, blocked: 0, header: false };
      const body = bodyStream(req);
      const out = Readable.from(scrubLines(body, deps.checks, {
        brandCode, type: q.type, messageType: q.messageType, recipientType: q.recipientType, annotate: q.annotate,
      }, stats), { objectMode: false });
      out.on('end', () => req.log.info({ scrub: stats }, 'scrub done'));
      reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store');
      return reply.send(out);
    });
  });
}

export default scrubRoutes;
