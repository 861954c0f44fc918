import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from './helpers/admin.js';
import { testEnvironment } from './helpers/environment.js';
import { useHarness } from './helpers/harness.js';
import { type ServiceProcess, startProcess, waitFor } from './helpers/processes.js';

/** One request on a connection of its own, so the group's processes share them out. */
function post(url: string, token: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', connection: 'close' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const pidsStarted = (output: string) =>
  [...output.matchAll(/"command":"api","pid":(\d+),"msg":"process started"/g)].map((m) => Number(m[1]));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.runIf(testEnvironment.databaseUrl && testEnvironment.redisUrl)('api with WEB_CONCURRENCY=2', () => {
  const block = useHarness({ TOKEN_POOL_SIZE: '10' }, { workers: false });
  let group: ServiceProcess;
  let token: string;

  beforeAll(async () => {
    token = (await signInAdmin(block.harness)).accessToken;
    group = await startProcess(
      'api',
      { ...block.harness.env, WEB_CONCURRENCY: '2', SHUTDOWN_TIMEOUT_MS: '10000' },
      'info',
    );
  });
  afterAll(async () => {
    await group.stop('SIGKILL');
  });

  const lease = () => post(`${group.url}/api/v1/tokens/lease`, token, { userId: crypto.randomUUID() });

  it('serves from two processes, and its metrics add up across them', async () => {
    await waitFor(
      () => pidsStarted(group.output()).length === 2,
      10_000,
      () => group.output(),
    );
    const statuses = await Promise.all(Array.from({ length: 40 }, lease));
    expect(statuses.filter((status) => status !== 201)).toEqual([]);
    const metrics = await (await fetch(`${group.url}/metrics`)).text();
    expect(metrics).toMatch(/^tokenpool_leases_total\{outcome="created"\} (\d+)/m);
    const leased = ['created', 'evicted'].reduce(
      (sum, outcome) =>
        sum + Number(metrics.match(new RegExp(`^tokenpool_leases_total\\{outcome="${outcome}"\\} (\\d+)`, 'm'))?.[1]),
      0,
    );
    expect(leased).toBe(40);
    // The pool is read from the database once per scrape, not once per process.
    expect(metrics).toMatch(/^tokenpool_pool_tokens\{state="active"\} 10$/m);
  });

  it('replaces a process that dies, serving all along, and stops every process on SIGTERM', async () => {
    const [victim, survivor] = pidsStarted(group.output()) as [number, number];
    process.kill(victim, 'SIGKILL');
    // Connections the dead process held are lost with it; from then on the other one serves.
    await waitFor(
      () => group.output().includes('a process of the group died; starting another'),
      5000,
      () => group.output(),
    );
    for (let i = 0; i < 10; i += 1) expect(await lease()).toBe(201);
    await waitFor(
      () => pidsStarted(group.output()).length === 3,
      10_000,
      () => `no process replaced the dead one:\n${group.output()}`,
    );
    const replacement = pidsStarted(group.output())[2] as number;
    await waitFor(
      async () => (await fetch(`${group.url}/health/ready`)).ok,
      10_000,
      () => 'not ready after the replacement',
    );
    expect(await group.stop('SIGTERM')).toBe(0);
    expect([survivor, replacement].filter(alive)).toEqual([]);
  });

  it('has each worker serve its own metrics and health on WORKER_PORT', async () => {
    const worker = await startProcess('worker', { ...block.harness.env, METRICS_TOKEN: 'a-metrics-token-for-workers' });
    try {
      expect((await fetch(`${worker.url}/health/ready`)).status).toBe(200);
      expect((await fetch(`${worker.url}/metrics`)).status).toBe(401);
      const metrics = await fetch(`${worker.url}/metrics`, {
        headers: { authorization: 'Bearer a-metrics-token-for-workers' },
      });
      const text = await metrics.text();
      // Its own series; the gauges read from the database come from whichever process of the
      // deployment exports them (this file's other processes were scraped first).
      expect(text).toMatch(/^tokenpool_jobs_running 0$/m);
      expect(text).toMatch(/^tokenpool_dependency_up\{dependency="database"\} 1$/m);
      expect(text).toMatch(/^# TYPE tokenpool_jobs gauge$/m);
      // A worker serves no API.
      expect((await fetch(`${worker.url}/api/v1/tokens`)).status).toBe(404);
    } finally {
      await worker.stop('SIGTERM');
    }
  });
});
