import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/infra/logger.js';
import { expectProblem, uniqueEmail } from './helpers/client.js';
import { useHarness } from './helpers/harness.js';
import { waitFor } from './helpers/processes.js';

const file = useHarness();

describe('HTTP edge', () => {
  it('answers unknown routes with a 404 problem and wrong methods with 405 and Allow', async () => {
    expectProblem(
      await file.harness.app.inject({ method: 'GET', url: '/api/v1/nothing-here' }),
      404,
      'ROUTE_NOT_FOUND',
    );
    const wrongMethod = await file.harness.app.inject({ method: 'GET', url: '/api/v1/auth/login' });
    expectProblem(wrongMethod, 405, 'METHOD_NOT_ALLOWED');
    expect(wrongMethod.headers.allow).toBe('POST');
  });

  it('answers bad JSON, a wrong content type and an oversized body with problems', async () => {
    const register = (contentType: string, payload: string) => file.api.postRaw('/auth/register', contentType, payload);
    expectProblem(await register('application/json', '{nope'), 400);
    expectProblem(await register('text/csv', 'a,b'), 415);
    expectProblem(await register('application/json', JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) })), 413);
  });

  it('makes its own request id for every request, whatever the caller sends', async () => {
    const given = await file.harness.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(given.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const insane = await file.harness.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'a b\u0001' },
    });
    expect(insane.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(insane.headers['x-request-id']).not.toBe(given.headers['x-request-id']);
  });

  it('reports liveness and readiness', async () => {
    expect((await file.harness.app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' });
    const ready = await file.harness.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ok',
      checks: { database: 'up', ...(file.harness.config.REDIS_URL ? { redis: 'up' } : {}), jobs: 'up' },
      stuckJobs: 0,
    });
  });

  it('serves an OpenAPI 3.1 document covering every route, and the docs page', async () => {
    const doc = (await file.harness.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    const routes = Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /api/v1/auth/register',
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/refresh',
        'POST /api/v1/auth/logout',
        'POST /api/v1/auth/forgot-password',
        'POST /api/v1/auth/reset-password',
        'POST /api/v1/auth/verify-email',
        'POST /api/v1/auth/change-password',
        'GET /api/v1/users/me',
        'GET /api/v1/users',
        'GET /api/v1/logs',
        'GET /api/v1/logs/{id}',
        'GET /health/live',
        'GET /health/ready',
        'POST /api/v1/tokens/lease',
        'GET /api/v1/tokens',
        'GET /api/v1/tokens/{id}',
        'GET /api/v1/tokens/{id}/history',
        'POST /api/v1/tokens/{id}/release',
        'DELETE /api/v1/tokens/active',
        'GET /api/v1/tokens/events',
        'POST /api/v1/auth/stream-ticket',
        'POST /api/v1/users/imports',
        'GET /api/v1/users/imports',
        'GET /api/v1/users/imports/{id}',
        'GET /api/v1/users/imports/{id}/events',
        'GET /api/v1/users/imports/{id}/errors.csv',
      ]),
    );
    const me = doc.paths['/api/v1/users/me'].get;
    expect(me.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(me.responses)).toEqual(expect.arrayContaining(['200', '401', '503']));
    const ready = doc.paths['/health/ready'].get.responses;
    expect(ready['503'].content['application/problem+json'].schema.properties).toHaveProperty('checks');
    const docs = await file.harness.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('serves the dashboard at its pages, with nothing loaded from elsewhere', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const assets = new Set<string>();
    for (const url of [
      '/',
      '/reset-password?token=x',
      '/verify-email?token=x',
      '/users',
      `/audit/${id}`,
      `/imports/${id}`,
    ]) {
      const page = await file.harness.app.inject({ method: 'GET', url });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.headers['content-security-policy']).toContain("default-src 'self'");
      // The shell names the bundle of the day, so it is checked again each time.
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.body).not.toMatch(/https?:\/\//);
      for (const [, asset] of page.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)) assets.add(asset as string);
    }
    // One script and one stylesheet, named by their content's hash and kept for good.
    expect([...assets].map((asset) => asset.replace(/-[A-Z0-9]{8}\./, '-HASH.')).sort()).toEqual([
      '/assets/main-HASH.css',
      '/assets/main-HASH.js',
    ]);
    for (const asset of assets) {
      const response = await file.harness.app.inject({ method: 'GET', url: asset });
      expect(response.statusCode, asset).toBe(200);
      expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(response.body).not.toMatch(/(src|href)=["']?https?:/);
    }
    expectProblem(await file.harness.app.inject({ method: 'GET', url: '/no-such-page' }), 404);
  });

  it("marks every API answer no-store, with helmet's headers, and keeps /docs from being framed", async () => {
    const user = await file.api.signUp();
    const me = await file.harness.app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    const problem = await file.harness.app.inject({ method: 'GET', url: '/api/v1/users/me' });
    for (const response of [me, problem]) {
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
      });
      expect(response.headers['content-security-policy']).toBeUndefined();
    }
    const docs = await file.harness.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(docs.headers['x-frame-options']).toBe('DENY');
  });
});

describe('readiness with jobs that no worker takes', () => {
  const idle = useHarness({ JOB_STUCK_SECONDS: '1' }, { workers: false });

  it('stays ready, says jobs are degraded and counts the stuck ones', async () => {
    await idle.api.register(uniqueEmail('stuck'));
    let body: { checks?: { jobs?: string }; stuckJobs?: number } = {};
    await waitFor(
      async () => {
        const ready = await idle.harness.app.inject({ method: 'GET', url: '/health/ready' });
        expect(ready.statusCode).toBe(200);
        body = ready.json();
        return body.checks?.jobs === 'degraded';
      },
      10_000,
      () => `never degraded: ${JSON.stringify(body)}`,
    );
    expect(body.stuckJobs).toBeGreaterThanOrEqual(1);
    const metrics = await idle.harness.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^tokenpool_jobs_stuck [1-9]/m);
  });
});

describe('request logging', () => {
  const lines: Array<{ level: number; msg: string; req?: { url?: string } }> = [];
  const logged = useHarness(
    {},
    { logger: createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) }) },
  );

  it('writes one line per answered request, and none at info for probes and scrapes', async () => {
    for (const url of ['/health/live', '/health/ready', '/metrics', '/api/v1/nothing-here'])
      await logged.harness.app.inject({ method: 'GET', url });
    const about = (url: string) => lines.filter((line) => line.req?.url === url);
    expect(lines.filter((line) => line.msg === 'incoming request')).toEqual([]);
    expect(about('/api/v1/nothing-here').map((line) => line.msg)).toEqual(['request completed']);
    for (const quiet of ['/health/live', '/health/ready', '/metrics']) expect(about(quiet)).toEqual([]);
  });
});
