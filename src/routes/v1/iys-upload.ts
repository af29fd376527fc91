import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { readStateFileSync, writeStateFileSync } from '../../mirror/append-log.ts';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import { gatewayError } from '../../errors.ts';
import { bulkUpload, type UploadSummary } from '../../iys/bulk-upload.ts';
import { ownBrand, ownItems, requireBrand } from '../../plugins/auth.ts';
import { bodyStream, CSV_MEDIA_TYPES, takeStreamedBodies } from '../csv-body.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse } from '../schemas.ts';

interface Job {
  id: string; brandCode: number; state: 'running' | 'done' | 'failed'; createdAt: string;
  progress: { validated: number; sent: number; confirmed: number; total: number };
  summary?: UploadSummary; error?: string;
}

/**
 * The HTTP equivalent of `iys-gate upload` (issue 6): `POST /v1/iys/uploads?brandCode=N` streams a
 * consent list (İYS upload layout, `text/csv`) to `<dataDir>/uploads/<id>.csv` and answers 202 with
 * the job id at once (İYS batches need ≥ 300 s before their results); the job validates, uploads and
 * polls in the background. `GET /v1/iys/uploads/<id>` gives its progress and summary,
 * `GET /v1/iys/uploads/<id>/report` the per-line report (CSV). Jobs survive a restart: an unfinished
 * one resumes from its state file without sending a row twice (bulk-upload.ts).
 */
export default async function uploadRoutes(app: FastifyInstance, deps: RouteDeps) {
  const dir = join(deps.config.dataDir, 'uploads');
  const jobs = new Map<string, Job>();
  // job files through append-log.ts (framed, sealed, fsynced); a damaged one refuses the start (GW_ERR_LOG_CORRUPT)
  const save = (j: Job) => writeStateFileSync(join(dir, `${j.id}.job.json`), j);
  const run = (j: Job) => {
    const client = deps.iys.client;
    if (!client) return;
    j.state = 'running';
    bulkUpload(createReadStream(join(dir, `${j.id}.csv`)), {
      brandCode: j.brandCode, client, store: deps.store, statePath: join(dir, `${j.id}.state.json`), reportPath: join(dir, `${j.id}.report.csv`),
      pollEveryMs: deps.config.iys!.batchPollAfterMs, now: deps.now, onProgress: (p) => { j.progress = p; },
    }).then((summary) => { j.state = 'done'; j.summary = summary; save(j); }, (err: Error) => {
      j.state = 'failed'; j.error = err.message; save(j);
      app.log.error({ err, upload: j.id }, 'upload job failed');
    });
  };
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.job.json'))) {
      const j = readStateFileSync<Job>(join(dir, f))!;
      jobs.set(j.id, j);
      if (j.state === 'running') app.addHook('onReady', async () => run(j));
    }
  }

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
      mkdirSync(dir, { recursive: true });
      const j: Job = { id: randomUUID(), brandCode, state: 'running', createdAt: new Date(deps.now()).toISOString(), progress: { validated: 0, sent: 0, confirmed: 0, total: 0 } };
      const body = bodyStream(req);
      await pipeline(body, createWriteStream(join(dir, `${j.id}.csv`)));
      jobs.set(j.id, j);
      save(j);
      run(j);
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
  }, async (req) => ({
    jobs: ownItems(req, jobs.values(), (j) => j.brandCode).sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .map((j) => ({ ...j, report: existsSync(join(dir, `${j.id}.report.csv`)) ? `/v1/iys/uploads/${j.id}/report` : null })),
  }));

  app.get<{ Params: { id: string } }>('/v1/iys/uploads/:id', {
    config: { scope: ['consents', 'console'] },
    schema: { summary: 'Progress and summary of an upload job', tags: ['consents'], params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } } },
  }, async (req) => {
    const j = jobs.get(req.params.id);
    if (!j) throw gatewayError('GW_ERR_NOT_FOUND', [`upload ${req.params.id}`]);
    ownBrand(req, j.brandCode);
    return j;
  });

  app.get<{ Params: { id: string } }>('/v1/iys/uploads/:id/report', {
    config: { scope: ['consents', 'console'] },
    schema: { summary: 'Per-line report of a finished upload (CSV)', tags: ['consents'], params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } } },
  }, async (req, reply) => {
    const j = jobs.get(req.params.id);
    const path = join(dir, `${req.params.id}.report.csv`);
    if (!j || !existsSync(path)) throw gatewayError('GW_ERR_NOT_FOUND', [`report of upload ${req.params.id}`]);
    ownBrand(req, j.brandCode);
    reply.type('text/csv; charset=utf-8');
    return createReadStream(path);
  });
}
