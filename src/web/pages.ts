import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

const root = new URL('../../public/', import.meta.url).pathname;

// The pages hold no secrets and load nothing from elsewhere; the policy keeps it that way.
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

const pages: Record<string, string> = {
  '/': 'index.html',
  '/reset-password': 'reset-password.html',
  '/verify-email': 'verify-email.html',
};

/** The small browser pages: a home page and the targets of the links in e-mails. */
export const webPages: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, { root, prefix: '/assets/', index: false, wildcard: false });
  for (const [url, file] of Object.entries(pages)) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) =>
      reply.header('content-security-policy', CSP).header('cache-control', 'no-cache').sendFile(file),
    );
  }
};
