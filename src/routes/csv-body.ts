import type { FastifyInstance, FastifyRequest } from 'fastify';
import { markStreaming } from '../plugins/request-bounds.ts';
import { unsupportedMediaType } from '../plugins/error-handler.ts';

/** Media types the CSV routes (import, İYS upload, scrub) take. */
export const CSV_MEDIA_TYPES = ['text/csv', 'text/plain', 'application/csv'];

/**
 * Makes an encapsulated `scope` take only `types` bodies, handed to its handlers as the raw
 * request stream (never buffered): any other type, JSON included, is 415
 * GW_ERR_UNSUPPORTED_MEDIA_TYPE before a handler runs (newcomer trial: scrub parsed JSON), naming
 * the route's schema `consumes` (keep it equal to `types`).
 */
export function takeStreamedBodies(scope: FastifyInstance, types: readonly string[] = CSV_MEDIA_TYPES): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser([...types], (_req, payload, done) => done(null, payload));
}

/**
 * The raw body stream of a request in a `takeStreamedBodies` scope; the request is marked
 * streaming (exempt from `requestTimeoutMs`, still bounded by `bodyIdleTimeoutMs`).
 * @throws GW_ERR_UNSUPPORTED_MEDIA_TYPE (415, field `body`) when there is none: an empty POST
 *   without a content type reaches the handler with no stream (review: it was a 500)
 */
export function bodyStream(req: FastifyRequest): NodeJS.ReadableStream & AsyncIterable<Buffer> {
  const body = req.body as (NodeJS.ReadableStream & AsyncIterable<Buffer>) | undefined;
  if (!body || typeof body.pipe !== 'function') throw unsupportedMediaType(req);
  markStreaming(req.raw); // bounded by bodyIdleTimeoutMs, not by requestTimeoutMs
  return body;
}
