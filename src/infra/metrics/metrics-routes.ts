import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import { errors } from '../http/errors.js';
import { clusterMetrics } from './cluster-metrics.js';

export interface MetricsOptions {
  registry: Registry;
  /** When set, a scrape must send `Authorization: Bearer <token>`. */
  token: string | undefined;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * `GET /metrics` in Prometheus's text format, and the HTTP request duration of every answer, by
 * route pattern (never the raw URL, which would make a series per id) and status class.
 */
export function registerMetrics(app: FastifyInstance, { registry, token }: MetricsOptions): void {
  const duration =
    (registry.getSingleMetric('tokenpool_http_request_duration_seconds') as Histogram<string> | undefined) ??
    new Histogram({
      name: 'tokenpool_http_request_duration_seconds',
      help: 'Time from the request arriving to its answer being sent, by route pattern and status class.',
      labelNames: ['method', 'route', 'status_class'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_class: `${Math.floor(reply.statusCode / 100)}xx`,
      },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (token) {
      const given = request.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
      if (!given || !sameSecret(given, token)) throw errors.unauthenticated('This scrape needs the metrics token.');
    }
    // Under `WEB_CONCURRENCY` the answer covers every process of the group, not just this one.
    const text = await clusterMetrics().then(
      async (group) => group ?? (await registry.metrics()),
      () => {
        throw errors.unavailable('The other processes did not answer for their metrics.');
      },
    );
    return reply.type(registry.contentType).header('cache-control', 'no-store').send(text);
  });
}
