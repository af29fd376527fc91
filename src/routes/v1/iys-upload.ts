import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { gatewayError } from '../../errors.ts';
import type { UploadJob } from '../../iys/upload-jobs.ts';
import { ownBrand, ownItems, requireBrand } from '../../plugins/auth.ts';
import { bodyStream, CSV_MEDIA_TYPES, takeStreamedBodies } from '../csv-body.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse } from '../schemas.ts';

/**
 * The HTTP equivalent of `iys-gate upload` (issue 6): `POST /v1/iys/uploads?brandCode=N` streams a
 * consent list (İYS upload layout, `text/csv`) into the job store and answers 202 with the job id
 * once it is stored (İYS batches need ≥ 300 s before their results); the job validates, uploads
 * and polls in the background. `GET /v1/iys/uploads/<id>` gives its progress and summary,
 * `GET /v1/iys/uploads/<id>/report` the per-line report (CSV). Jobs survive a restart: an
 * unfinished one resumes from its stored progress without sending a row twice (bulk-upload.ts).
 * On Redis (a fleet) the job store is shared (upload-jobs.ts): any instance answers for any job,
 * the İYS leader runs them, and the next leader resumes the jobs of one that died.
 */
export default async function uploadRoutes(app: FastifyInstance, deps: RouteDeps) {
  const jobs = deps.iys.uploads;

  app.register(async (scope) => {
    takeStreamedBodies(scope);
    scope.post<{ Querystring: { brandCode: number } }>('/v1/iys/uploads', {
      config: { scope: 'consents' },
      bodyLimit: deps.config.importBodyLimitBytes,
      schema: {
        summary: 'Transfer a consent list to İYS (validated locally, v2 batches, resumable)', tags: ['consents'],
        querystring: { type: 'object', additionalProperties: false, required: ['brandCode'], properties: { brandCode: { type: 'integer', minimum: 1 } } },
        consumes: CSV_MEDIA_TYPES, response: { '4xx': errorResponse },
      },
    }, async (req, reply) => {
      const brandCode = requireBrand(req, req.query.brandCode, deps.servedBrands);
      if (!deps.iys.client) throw gatewayError('GW_ERR_IYS_NOT_CONFIGURED');
      const j: UploadJob = { id: randomUUID(), brandCode, state: 'running', createdAt: new Date(deps.now()).toISOString(), progress: { validated: 0, sent: 0, confirmed: 0, total: 0 } };
      await jobs.create(j, bodyStream(req));
      deps.iys.uploadRunner?.kick(j.id);
      reply.code(202);
      return { id: j.id, state: j.state, status: `/v1/iys/uploads/${j.id}`, report: `/v1/iys/uploads/${j.id}/report` };
    });
  });

  app.get('/v1/iys/uploads', {
    config: { scope: ['consents', 'console'] },
    schema: {
      summary: 'Upload jobs of the key\'s brands, newest first, with their progress', tags: ['consents'],
      response: { 200: { type: 'object', properties: { jobs: { type: 'array', items: { type: 'object', additionalProperties: true } } } } },
    },
  }, async (req) => {
    const mine = ownItems(req, await jobs.list(), (j) => j.brandCode);
    const withReport = await Promise.all(mine.map((j) => (j.state === 'running' ? Promise.resolve(false) : jobs.hasReport(j.id))));
    return { jobs: mine.map((j, i) => ({ ...j, report: withReport[i] ? `/v1/iys/uploads/${j.id}/report` : null })) };
  });

  app.get<{ Params: { id: string } }>('/v1/iys/uploads/:id', {
    config: { scope: ['consents', 'console'] },
    schema: { summary: 'Progress and summary of an upload job', tags: ['consents'], params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } } },
  }, async (req) => {
    const j = await jobs.get(req.params.id);
    if (!j) throw gatewayError('GW_ERR_NOT_FOUND', [`upload ${req.params.id}`]);
    ownBrand(req, j.brandCode);
    return j;
  });

  app.get<{ Params: { id: string } }>('/v1/iys/uploads/:id/report', {
    config: { scope: ['consents', 'console'] },
    schema: { summary: 'Per-line report of a finished upload (CSV)', tags: ['consents'], params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } } },
  }, async (req, reply) => {
    const j = await jobs.get(req.params.id);
    if (!j) throw gatewayError('GW_ERR_NOT_FOUND', [`report of upload ${req.params.id}`]);
    ownBrand(req, j.brandCode);
    const r = await jobs.report(req.params.id);
    if (!r) throw gatewayError('GW_ERR_NOT_FOUND', [`report of upload ${req.params.id}`]);
    reply.type('text/csv; charset=utf-8');
    return r;
  });
}
