import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from './helpers/admin.js';
import { expectProblem } from './helpers/client.js';
import { useHarness } from './helpers/harness.js';
import { importFile } from './helpers/imports.js';
import { sample } from './helpers/metrics.js';
import { waitFor } from './helpers/processes.js';

const METRICS_TOKEN = 'a-metrics-token-for-tests';
const file = useHarness({ TOKEN_POOL_SIZE: '3', METRICS_TOKEN });
let admin: { accessToken: string };

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
});

async function scrape(): Promise<string> {
  const response = await file.harness.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.body;
}

describe('GET /metrics', () => {
  it('needs the metrics token when one is set', async () => {
    expectProblem(await file.harness.app.inject({ method: 'GET', url: '/metrics' }), 401);
    expectProblem(
      await file.harness.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong' } }),
      401,
    );
  });

  it('shows the pool, lease outcomes and ends, imports, jobs, HTTP latency and dependencies', async () => {
    const lease = (userId: string) => file.api.post('/tokens/lease', { userId }, admin.accessToken);
    const holders = Array.from({ length: 4 }, () => crypto.randomUUID());
    const leased = [];
    for (const holder of holders) leased.push((await lease(holder)).json());
    await lease(holders[3] as string);
    expect((await file.api.post(`/tokens/${leased[3].tokenId}/release`, undefined, admin.accessToken)).statusCode).toBe(
      200,
    );
    await lease(crypto.randomUUID());
    // One request waits in line for the full pool while the scrapes run; a clear serves it after them.
    const waiting = file.api.post(
      '/tokens/lease',
      { userId: crypto.randomUUID(), onFull: 'wait', waitSeconds: 60 },
      admin.accessToken,
    );
    const tag = Date.now();
    await importFile(file.harness.app, admin.accessToken, `name,email\nA,a${tag}@example.com\nB,not-an-email\n`);

    // The job's run is counted once its handler has returned, a moment after the import reads as
    // completed: the scrape waits for it.
    const series = 'tokenpool_job_runs_total{kind="users.import",outcome="done"}';
    let text = await scrape();
    await waitFor(
      async () => {
        text = await scrape();
        return sample(text, series) === 1;
      },
      10_000,
      () => `no ${series} in\n${text}`,
    );
    // Four new leases on a pool of three: one eviction; a retry; a release; one more new lease.
    expect(sample(text, 'tokenpool_leases_total{outcome="created"}')).toBe(4);
    expect(sample(text, 'tokenpool_leases_total{outcome="evicted"}')).toBe(1);
    expect(sample(text, 'tokenpool_leases_total{outcome="same"}')).toBe(1);
    expect(sample(text, 'tokenpool_lease_ends_total{reason="evicted"}')).toBe(1);
    expect(sample(text, 'tokenpool_lease_ends_total{reason="released"}')).toBe(1);
    expect(sample(text, 'tokenpool_pool_tokens{state="active"}')).toBe(3);
    expect(sample(text, 'tokenpool_pool_tokens{state="available"}')).toBe(0);
    expect(sample(text, 'tokenpool_lease_waiters')).toBe(1);
    expect((await file.api.delete('/tokens/active', admin.accessToken)).statusCode).toBe(200);
    expect((await waiting).statusCode).toBe(201);
    expect(sample(text, 'tokenpool_import_rows_total{outcome="created"}')).toBe(1);
    expect(sample(text, 'tokenpool_import_rows_total{outcome="invalid"}')).toBe(1);
    expect(sample(text, 'tokenpool_imports{status="completed"}')).toBe(1);
    expect(text).toMatch(/^tokenpool_jobs\{status="\w+"\} \d+$/m);
    expect(sample(text, 'tokenpool_dependency_up{dependency="database"}')).toBe(1);
    expect(
      sample(
        text,
        'tokenpool_http_request_duration_seconds_count{method="POST",route="/api/v1/tokens/lease",status_class="2xx"}',
      ),
    ).toBe(6);
    expect(text).toMatch(/^tokenpool_process_resident_memory_bytes \d+/m);
    // Ids never become labels: one series per route pattern.
    expect(text).not.toContain(leased[3].tokenId);
  });

  it('passes promtool check metrics', async () => {
    const promtool = spawnSync('promtool', ['--version']);
    // CI installs Debian's prometheus package; a machine without it skips only this check.
    if (promtool.error && !process.env.CI) return;
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: await scrape() });
    expect(checked.status, `${checked.stdout}${checked.stderr}`).toBe(0);
    expect(`${checked.stdout}${checked.stderr}`.trim()).toBe('');
  });
});
