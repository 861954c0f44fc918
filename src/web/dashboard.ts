import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

// The page's shell is kept in the source tree; the bundle is built by `npm run build`.
const shell = new URL('../../dashboard/', import.meta.url).pathname;
const bundle = new URL('../../dist/dashboard/', import.meta.url).pathname;

// The dashboard holds no secrets in its markup and loads nothing from elsewhere; the policy keeps it that way.
const CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The dashboard's pages: each is the same shell, and the script in it shows the page the URL names. */
const PAGES = [
  '/',
  '/forgot-password',
  '/reset-password',
  '/verify-email',
  '/tokens/:id',
  '/imports',
  '/imports/:id',
  '/users',
  '/audit',
  '/audit/:id',
];

/** Serves the browser dashboard at `/` and its bundle under `/assets/`. */
export const dashboard: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, {
    root: bundle,
    prefix: '/assets/',
    index: false,
    wildcard: false,
    // The bundle's names do not change between builds: the default `max-age=0` has browsers ask
    // again each time, which the ETag makes cheap.
  });
  for (const url of PAGES) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .header('content-security-policy', CSP)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .sendFile('index.html', shell),
    );
  }
};
