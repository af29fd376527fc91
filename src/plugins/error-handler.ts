import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_DEFINITIONS, gatewayError, isGatewayError, type ErrorCode, type GatewayError } from '../errors.ts';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 413: 'Payload Too Large',
  405: 'Method Not Allowed', 409: 'Conflict', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** The methods a 405's Allow header may list (the gateway's routes use no others). */
const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

/** fastify's own codes → ours (so every answer carries a GW_ERR_* code). */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'GW_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'GW_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'GW_ERR_VALIDATION',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'GW_ERR_BAD_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'GW_ERR_BAD_JSON',
  FST_ERR_VALIDATION: 'GW_ERR_VALIDATION',
};

/** Media types the route of `req` takes: its schema's `consumes`, else JSON (every other body route). */
export function acceptedMediaTypes(req: FastifyRequest): readonly string[] {
  return (req.routeOptions.schema as { consumes?: readonly string[] } | undefined)?.consumes ?? ['application/json'];
}

/**
 * 415 GW_ERR_UNSUPPORTED_MEDIA_TYPE naming what was sent and what the route takes (issue 10:
 * a newcomer could not tell). Field `body`.
 */
export function unsupportedMediaType(req: FastifyRequest): GatewayError {
  const sent = req.headers['content-type'] ?? 'none';
  return gatewayError('GW_ERR_UNSUPPORTED_MEDIA_TYPE', [`${sent}; ${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]} accepts ${acceptedMediaTypes(req).join(', ')}`], { field: 'body' });
}

/** `/recipients/7312` → `recipients.7312`; adds the missing or unknown property name. */
function fieldOf(err: FastifyError): string | undefined {
  const v = err.validation?.[0];
  if (!v) return undefined;
  const base = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const params = v.params as { missingProperty?: string; additionalProperty?: string };
  const extra = params.missingProperty ?? params.additionalProperty;
  const path = [base, extra].filter(Boolean).join('.');
  return path || undefined;
}

/**
 * fastify's `frameworkErrors` option: errors raised before routing (a path find-my-way cannot
 * decode, `%zz` or `%C0%AF`; a too long parameter) answered in the same coded shape, 400
 * GW_ERR_BAD_REQUEST, instead of fastify's own uncoded `FST_ERR_BAD_URL`.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const bad = err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const code: ErrorCode = bad ? 'GW_ERR_BAD_REQUEST' : 'GW_ERR_INTERNAL';
  const status = ERROR_DEFINITIONS[code].status;
  void reply.code(status).type('application/json').send({ statusCode: status, code, error: STATUS_TEXT[status], message: bad ? 'Malformed request path (it cannot be decoded)' : ERROR_DEFINITIONS[code].message, ...(bad ? { field: 'path' } : {}) });
}

/**
 * One error shape for every answer (API.md "Conventions"): `{ statusCode, code, error, message,
 * field? }`. Unknown errors become 500 GW_ERR_INTERNAL with the cause logged, never leaked.
 */
export default fp(async function errorHandler(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    let code: ErrorCode;
    let status: number;
    let message = err.message;
    let field: string | undefined;
    if (isGatewayError(err)) {
      code = err.code; status = err.statusCode; field = err.field;
    } else if (err.validation) {
      code = 'GW_ERR_VALIDATION'; status = 400; field = fieldOf(err);
      const v = err.validation[0]!;
      message = `${field ?? err.validationContext ?? 'body'} ${v.message ?? 'is invalid'}`;
      if (v.keyword === 'additionalProperties') message = `unknown field ${field}`;
      if (v.keyword === 'required' && field) message = `${field} is required`;
      if (v.keyword === 'enum') message = `${field} must be one of ${(v.params as { allowedValues?: unknown[] }).allowedValues?.join(', ')}`;
      if (!field && err.validationContext) field = err.validationContext;
    } else if (err.code && FASTIFY_CODES[err.code]) {
      code = FASTIFY_CODES[err.code]!; status = ERROR_DEFINITIONS[code].status;
      if (code === 'GW_ERR_BAD_JSON') field = 'body';
      if (code === 'GW_ERR_UNSUPPORTED_MEDIA_TYPE') { message = unsupportedMediaType(req).message; field = 'body'; }
    } else if (err instanceof SyntaxError || err.statusCode === 400) {
      code = 'GW_ERR_BAD_JSON'; status = 400; field = 'body';
    } else if (err.statusCode === 413) {
      code = 'GW_ERR_BODY_TOO_LARGE'; status = 413;
    } else if (err.statusCode === 415) {
      code = 'GW_ERR_UNSUPPORTED_MEDIA_TYPE'; status = 415; message = unsupportedMediaType(req).message; field = 'body';
    } else {
      code = 'GW_ERR_INTERNAL'; status = 500; message = 'Internal error';
      req.log.error({ err, reqId: req.id, route: req.routeOptions.url }, 'unhandled error');
    }
    if (status >= 500 && code !== 'GW_ERR_INTERNAL') req.log.error({ err, reqId: req.id, route: req.routeOptions.url }, message);
    const body: Record<string, unknown> = { statusCode: status, code, error: STATUS_TEXT[status] ?? 'Error', message };
    if (field) body.field = field;
    reply.code(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    // a path that is a route for other methods (GET /v1/check) gets 405 with Allow (RFC 9110 §15.5.6),
    // not "not found": a new user's first curl otherwise reads as if the route did not exist
    const path = req.url.split('?')[0]!;
    const allow = ROUTE_METHODS.filter((m) => m !== req.method && app.hasRoute({ method: m, url: path }));
    if (allow.length > 0 && !(req.method === 'HEAD' && allow.includes('GET'))) {
      reply.code(405).header('allow', allow.join(', ')).send({ statusCode: 405, code: 'GW_ERR_METHOD_NOT_ALLOWED', error: 'Method Not Allowed', message: `Route ${path} takes ${allow.join(', ')}, not ${req.method}` });
      return;
    }
    reply.code(404).send({ statusCode: 404, code: 'GW_ERR_NOT_FOUND', error: 'Not Found', message: `Route ${req.method} ${req.url.split('?')[0]} not found` });
  });
}, { name: 'iysgate-error-handler' });
