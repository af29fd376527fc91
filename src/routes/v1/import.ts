import type { FastifyInstance } from 'fastify';
import { Transform } from 'node:stream';
import { gatewayError } from '../../errors.ts';
import { importCsv } from '../../mirror/importer.ts';
import { requireBrand } from '../../plugins/auth.ts';
import { bodyStream, CSV_MEDIA_TYPES, takeStreamedBodies } from '../csv-body.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse, importQuery } from '../schemas.ts';

/**
 * POST /v1/mirror/import?brandCode=N: streams a CSV of İYS records into the mirror (API.md). The
 * body is never buffered whole; its size is capped at `importBodyLimitBytes`.
 */
export default async function importRoutes(app: FastifyInstance, deps: RouteDeps) {
  app.register(async (scope) => {
    takeStreamedBodies(scope);
    scope.post<{ Querystring: { brandCode: number } }>('/v1/mirror/import', {
      config: { scope: 'import' },
      bodyLimit: deps.config.importBodyLimitBytes,
      schema: {
        summary: 'Load İYS records (daily movement file or upload layout) into the mirror', tags: ['mirror'],
        querystring: importQuery, consumes: CSV_MEDIA_TYPES, response: { '4xx': errorResponse },
      },
    }, async (req) => {
      const brandCode = requireBrand(req, req.query.brandCode, deps.servedBrands);
      const limit = deps.config.importBodyLimitBytes;
      let seen = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          seen += chunk.length;
          if (seen > limit) cb(gatewayError('GW_ERR_BODY_TOO_LARGE', [limit]));
          else cb(null, chunk);
        },
      });
      const body = bodyStream(req);
      body.on('error', (e) => counter.destroy(e));
      body.pipe(counter);
      const report = await importCsv(counter, { brandCode, store: deps.store, now: deps.now, parser: deps.config.importParser });
      deps.metrics.importRows.labels('applied').inc(report.applied);
      deps.metrics.importRows.labels('ignoredOlder').inc(report.ignoredOlder);
      deps.metrics.importRows.labels('duplicate').inc(report.duplicate);
      deps.metrics.importRows.labels('rejected').inc(report.rejected);
      // Without an İYS account an import is the mirror's only source: it marks the mirror fresh.
      // With one, freshness comes from complete pulls only (an old file must not hide a broken sync).
      if (!deps.config.iys) {
        deps.checks.markFresh(deps.now());
        await deps.store.setMeta('mirror.freshAt', String(deps.now()));
      }
      deps.metrics.mirrorSize.set(await deps.store.size());
      return report;
    });
  });
}
