import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

// The bundle and the page shell that names it are built by `npm run build` (scripts/build-dashboard.ts).
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
  '/webhooks',
  '/webhooks/:id',
];

export interface DashboardOptions {
  /** Serve the bundle's `.map` files, which show the dashboard's source. */
  sourceMaps: boolean;
}

/** Serves the browser dashboard at `/` and its bundle under `/assets/`. */
export const dashboard: FastifyPluginAsync<DashboardOptions> = async (app, { sourceMaps }) => {
  await app.register(fastifyStatic, {
    root: bundle,
    prefix: '/assets/',
    index: false,
    wildcard: false,
    // Every file's name holds its content's hash (scripts/build-dashboard.ts): a new build is a new
    // name, so a browser may keep what it has for good.
    immutable: true,
    maxAge: '365d',
    // The shell is served at the pages' URLs, where it is not kept.
    allowedPath: (path) => path !== '/index.html' && (sourceMaps || !path.endsWith('.map')),
  });
  for (const url of PAGES) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .header('content-security-policy', CSP)
        // The shell names the current bundle, so it is checked again on every visit.
        .header('cache-control', 'no-cache')
        .header('referrer-policy', 'no-referrer')
        .sendFile('index.html', bundle, { cacheControl: false }),
    );
  }
};
