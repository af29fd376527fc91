import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { gatewayError } from '../../errors.ts';

/** The console's files: `<repo>/console/` (from src/routes/console/ and from dist/routes/console/ alike). */
export const CONSOLE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'console');
/** uPlot's distribution folder (a package dependency: served from here, never from a CDN). */
const UPLOT_DIST = dirname(createRequire(import.meta.url).resolve('uplot'));
const VENDOR: Readonly<Record<string, string>> = { 'uPlot.esm.js': 'uPlot.esm.js', 'uPlot.min.css': 'uPlot.min.css' };

/**
 * Content-Security-Policy of every console response: scripts, styles, images and requests from the
 * gateway itself only; no inline script or style element, no plugins, no framing, no base rewrite.
 * (Style properties set from script, as uPlot does, are not inline styles in CSP's sense.)
 */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The operator console (issue 18, README "Console"): static files under `/console/` through
 * @fastify/static, plain ES modules (no build step), uPlot from node_modules at
 * `/console/vendor/`. Public like any static page: the data comes from the `/v1/console/*` and
 * read `/v1/*` routes, with the key the operator signs in with (kept in sessionStorage).
 * Every answer carries {@link CONSOLE_CSP}, `nosniff`, `no-referrer` and `no-store` for HTML.
 */
export default async function consoleStatic(app: FastifyInstance) {
  await app.register(fastifyStatic, { root: CONSOLE_ROOT, serve: false, wildcard: false, index: false, dotfiles: 'deny' });
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.url.startsWith('/console')) return payload;
    reply.header('content-security-policy', CONSOLE_CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cross-origin-opener-policy', 'same-origin');
    return payload;
  });
  const schema = (summary: string) => ({ summary, tags: ['console'], security: [], produces: ['text/html', 'text/javascript', 'text/css', 'image/png'] });
  app.get('/console', { schema: schema('Redirects to /console/') }, async (_req, reply) => reply.redirect('/console/', 301));
  app.get('/console/', { schema: schema('The operator console (HTML)') }, async (_req, reply) => reply.header('cache-control', 'no-store').sendFile('index.html', { cacheControl: false }));
  app.get<{ Params: { file: string } }>('/console/vendor/:file', { schema: schema('Vendored chart library (uPlot, from node_modules)') }, async (req, reply) => {
    const f = VENDOR[req.params.file];
    if (f === undefined) throw gatewayError('GW_ERR_NOT_FOUND', [`/console/vendor/${req.params.file}`]);
    return reply.sendFile(f, UPLOT_DIST, { maxAge: 3_600_000 });
  });
  app.get<{ Params: { '*': string } }>('/console/*', { schema: schema('Console scripts, styles and images') }, async (req, reply) => {
    const path = req.params['*'];
    if (!/^[a-z0-9][a-z0-9/_.-]*\.(js|css|png|svg|ico)$/i.test(path) || path.includes('..')) throw gatewayError('GW_ERR_NOT_FOUND', [`/console/${path}`]);
    return reply.sendFile(path, { maxAge: 0 });
  });
}
