import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, uniqueEmail } from './helpers/client.js';
import { testEnvironment } from './helpers/environment.js';
import { useHarness } from './helpers/harness.js';
import { outboxMailbox } from './helpers/mailbox.js';
import { sample } from './helpers/metrics.js';
import { runCli, type ServiceProcess, startProcess } from './helpers/processes.js';

async function post(base: string, path: string, body: unknown, token?: string) {
  const response = await fetch(`${base}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body ?? {}),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON came back
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
}

async function get(base: string, path: string, token: string) {
  const response = await fetch(`${base}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON came back
  return { status: response.status, body: (await response.json()) as any };
}

describe('the command line', () => {
  it('stops at start with one line naming a bad variable', async () => {
    const result = await runCli(['serve'], { PORT: 'eighty' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^configuration error: PORT must be integer/),
    ]);
  });

  it('refuses an unknown command with its usage', async () => {
    const result = await runCli(['dance'], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('usage: tokenpool');
  });
});

describe('serve on the embedded defaults', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tokenpool-serve-'));
  });
  afterAll(async () => {
    await service?.stop('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  // Four starts of the embedded database, each a WASM PostgreSQL booting: slow on a loaded machine.
  it('migrates, ensures the admin, writes mail to the outbox, survives restarts and stops cleanly', {
    timeout: 90_000,
  }, async () => {
    const env = {
      DATA_DIR: dataDir,
      ADMIN_EMAIL: 'root@example.com',
      ADMIN_PASSWORD: PASSWORD,
      PUBLIC_URL: 'http://tokenpool.test',
    };
    service = await startProcess('serve', env);
    // A first start says what it migrated, where the dashboard is and that an admin can sign in.
    const { entries } = JSON.parse(
      await readFile(new URL('../migrations/meta/_journal.json', import.meta.url), 'utf8'),
    );
    expect(service.output()).toContain(`"msg":"applied ${entries.length} migrations"`);
    expect(service.output()).toMatch(/"admins":1,"msg":"dashboard at http:\/\/tokenpool\.test\/"/);
    const login = await post(service.url, '/auth/login', { email: 'root@example.com', password: PASSWORD });
    expect(login.status).toBe(200);
    expect((await get(service.url, '/users/me', login.body.accessToken)).body.role).toBe('admin');
    const newcomer = uniqueEmail('outbox');
    expect(
      (await post(service.url, '/auth/register', { name: 'New', email: newcomer, password: PASSWORD })).status,
    ).toBe(201);
    expect((await outboxMailbox(dataDir).waitFor(newcomer, 'Welcome')).links[0]).toMatch(
      /^http:\/\/tokenpool\.test\/verify-email\?token=/,
    );
    expect(await service.stop('SIGTERM')).toBe(0);
    expect(service.output()).toContain('"msg":"stopped"');

    // A second start finds the same database and the same key: the old access token still works.
    // migrate and create-admin work on the same data directory while the service is down.
    const migrated = await runCli(['migrate'], env);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain('"applied":0,"msg":"no migration to apply"');
    // As the README and the usage write it: the password in ADMIN_PASSWORD, the e-mail as a flag.
    const created = await runCli(['create-admin', '--email', 'ops@example.com'], {
      DATA_DIR: dataDir,
      ADMIN_PASSWORD: `${PASSWORD}!`,
    });
    expect(created.code, created.stderr).toBe(0);

    service = await startProcess('serve', env);
    expect((await get(service.url, '/users/me', login.body.accessToken)).status).toBe(200);
    const ops = await post(service.url, '/auth/login', { email: 'ops@example.com', password: `${PASSWORD}!` });
    expect((await get(service.url, '/users/me', ops.body.accessToken)).body.role).toBe('admin');
    expect(await service.stop('SIGINT')).toBe(0);

    // The pool was made with the default 100 tokens; another size is refused, in one line.
    const resized = await runCli(['serve'], { ...env, TOKEN_POOL_SIZE: '5' });
    expect(resized.code).toBe(1);
    expect(resized.stderr.trim().split('\n')).toEqual([
      'configuration error: TOKEN_POOL_SIZE is 5 but the pool was made with 100 tokens; a pool is never resized (set TOKEN_POOL_SIZE=100)',
    ]);
  });
});

describe.runIf(testEnvironment.databaseUrl && testEnvironment.redisUrl)('api and worker processes', () => {
  const block = useHarness({ LOGIN_RATE_LIMIT: '4' });
  const services: ServiceProcess[] = [];
  let apiA: ServiceProcess;
  let apiB: ServiceProcess;

  beforeAll(async () => {
    // The harness's own process runs no workers here: only the worker process may send the mail.
    await block.harness.runtime.queue.close();
    const env = { ...block.harness.env, LOG_LEVEL: 'warn' };
    apiA = await startProcess('api', env);
    apiB = await startProcess('api', { ...env, ADMIN_EMAIL: undefined });
    services.push(apiA, apiB, await startProcess('worker', env));
  });
  afterAll(async () => {
    for (const service of services) await service.stop('SIGKILL');
  });

  it('queues the welcome e-mail in one process and sends it from the worker', async () => {
    const email = uniqueEmail('multi');
    expect((await post(apiA.url, '/auth/register', { name: 'Multi', email, password: PASSWORD })).status).toBe(201);
    const mail = await block.harness.mailbox.waitFor(email, 'Welcome', 15_000);
    expect(mail.links[0]).toMatch(/verify-email\?token=/);
  });

  it('exports the gauges read from the database from one process, so a sum over targets counts each token once', async () => {
    const scrape = async (service: ServiceProcess) => (await fetch(`${service.url}/metrics`)).text();
    const tokens = (text: string) =>
      ['active', 'available'].map((state) => sample(text, `tokenpool_pool_tokens{state="${state}"}`));
    for (const service of services) await scrape(service);
    const counts = await Promise.all(services.map(async (service) => tokens(await scrape(service))));
    const exporting = counts.filter((pair) => pair.some((value) => value !== undefined));
    expect(exporting).toHaveLength(1);
    const total = counts.flat().reduce<number>((sum, value) => sum + (value ?? 0), 0);
    expect(total).toBe(block.harness.config.TOKEN_POOL_SIZE);
  });

  it('writes nothing but JSON lines, with no deprecation notice from the worker', async () => {
    const worker = services[2] as ServiceProcess;
    await fetch(`${worker.url}/health/ready`);
    const lines = worker
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(worker.output()).not.toContain('FSTDEP023');
  });

  // Each process keeps the sessions it has read (see session-cache.ts): the one that ends a session
  // tells the others before it answers, so the very next request anywhere is refused.
  it('ends a session in every process at once when it logs out in one', async () => {
    const email = uniqueEmail('multi');
    await post(apiA.url, '/auth/register', { name: 'Multi', email, password: PASSWORD });
    for (let round = 0; round < 10; round += 1) {
      const { body: tokens } = await post(apiA.url, '/auth/login', { email, password: PASSWORD });
      const [here, there] = round % 2 === 0 ? [apiA, apiB] : [apiB, apiA];
      expect((await get(here.url, '/users/me', tokens.accessToken)).status).toBe(200);
      expect((await get(there.url, '/users/me', tokens.accessToken)).status).toBe(200);
      expect((await post(there.url, '/auth/logout', undefined, tokens.accessToken)).status).toBe(204);
      expect((await get(here.url, '/users/me', tokens.accessToken)).status).toBe(401);
      expect((await get(there.url, '/users/me', tokens.accessToken)).status).toBe(401);
    }
  });

  it('ends the other sessions in every process at once when the password changes in one', async () => {
    const email = uniqueEmail('multi');
    await post(apiA.url, '/auth/register', { name: 'Multi', email, password: PASSWORD });
    const { body: other } = await post(apiA.url, '/auth/login', { email, password: PASSWORD });
    const { body: own } = await post(apiB.url, '/auth/login', { email, password: PASSWORD });
    expect((await get(apiA.url, '/users/me', other.accessToken)).status).toBe(200);
    const changed = await post(
      apiB.url,
      '/auth/change-password',
      { currentPassword: PASSWORD, newPassword: `${PASSWORD} anew` },
      own.accessToken,
    );
    expect(changed.status).toBe(204);
    expect((await get(apiA.url, '/users/me', other.accessToken)).status).toBe(401);
    expect((await get(apiA.url, '/users/me', own.accessToken)).status).toBe(200);
  });

  it('shares the login rate limit across processes', async () => {
    const email = uniqueEmail('limited');
    const attempt = (service: ServiceProcess) =>
      post(service.url, '/auth/login', { email, password: 'wrong password' });
    const statuses = [];
    for (const service of [apiA, apiB, apiA, apiB, apiA]) statuses.push((await attempt(service)).status);
    // With per-process counters apiA would have seen at most four attempts from this IP (one login
    // earlier in this file, three here) and let the fifth through; a shared counter refuses it.
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses[4]).toBe(429);
  });
});
