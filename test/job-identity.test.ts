import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EnvInput } from '../src/config.js';
import { PASSWORD, uniqueEmail } from './helpers/client.js';
import { testEnvironment } from './helpers/environment.js';
import { createTestDatabase } from './helpers/harness.js';
import { type SmtpMailbox, startSmtpMailbox } from './helpers/mailbox.js';
import { type ServiceProcess, startProcess, waitFor } from './helpers/processes.js';
import { deleteRedisKeys } from './helpers/redis-keys.js';

// A job's identity outlives its database: a recreated database, a restored dump (whose sequences
// go back) and a second deployment on the same Redis and prefix each run every job they acknowledge,
// and only their own. And every process of a deployment signs and reads tokens with one key.
const { databaseUrl, redisUrl } = testEnvironment;
const ADMIN = { email: 'admin@identity.test', password: PASSWORD };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serverQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tokenpool-identity-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A test database of its own, dropped after the test. */
async function database(): Promise<{ name: string; url: string }> {
  const created = await createTestDatabase();
  if (!created) throw new Error('needs DATABASE_URL');
  cleanups.push(() => created.drop());
  return created;
}

async function environment(databaseUrl: string, redisPrefix: string, mailbox?: SmtpMailbox): Promise<EnvInput> {
  return {
    NODE_ENV: 'test',
    DATA_DIR: await dataDir(),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisPrefix,
    SMTP_URL: mailbox?.smtpUrl,
    PUBLIC_URL: 'http://tokenpool.test',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    LOGIN_RATE_LIMIT: '1000',
    AUTH_RATE_LIMIT: '100000',
    WEB_CONCURRENCY: '1',
    JOB_POLL_MS: '100',
  };
}

/** The processes of one deployment; stopped (SIGTERM) by `stop`, or after the test. */
async function deploy(env: EnvInput, shape: Array<'api' | 'worker' | 'serve'>) {
  const processes: ServiceProcess[] = [];
  const stop = async () => {
    for (const process of processes.splice(0)) await process.stop();
  };
  cleanups.push(stop);
  // A worker is known to be up by its info line 'started'.
  for (const command of shape) processes.push(await startProcess(command, env));
  const http = processes.find((process) => process.child.spawnargs.some((arg) => arg === 'api' || arg === 'serve'));
  return { url: (http as ServiceProcess).url, output: () => processes.map((p) => p.output()).join(''), stop };
}

async function request(url: string, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined || body instanceof FormData ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: body instanceof FormData ? body : JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json().catch(() => undefined)) as Record<string, unknown> };
}

async function login(url: string): Promise<string> {
  const { status, body } = await request(url, 'POST', '/auth/login', undefined, ADMIN);
  expect(status, JSON.stringify(body)).toBe(200);
  return body.accessToken as string;
}

/**
 * What a team does after a restore: a registration, whose welcome e-mail must arrive, and an
 * import, which must complete. Either waits for ever when its job is taken for another's.
 */
async function registerAndImport(url: string, mailbox: SmtpMailbox, output: () => string): Promise<void> {
  const email = uniqueEmail('after-restore');
  const registered = await request(url, 'POST', '/auth/register', undefined, {
    name: 'New',
    email,
    password: PASSWORD,
  });
  expect(registered.status).toBe(201);
  await mailbox.waitFor(email, 'Welcome', 20_000);

  const token = await login(url);
  const form = new FormData();
  const rows = [1, 2, 3].map((n) => `Row ${n},${uniqueEmail(`imported-${n}`)}`);
  form.append('file', new Blob([`name,email\n${rows.join('\n')}\n`], { type: 'text/csv' }), 'users.csv');
  const queued = await request(url, 'POST', '/users/imports', token, form);
  expect(queued.status).toBe(202);
  let view: Record<string, unknown> = {};
  await waitFor(
    async () => {
      view = (await request(url, 'GET', `/users/imports/${queued.body.id as string}`, token)).body;
      return view.status === 'completed' || view.status === 'failed';
    },
    20_000,
    () => `the import stayed ${view.status}:\n${output()}`,
  );
  expect(view).toMatchObject({ status: 'completed', createdRows: 3 });
}

describe.runIf(databaseUrl && redisUrl)('jobs across databases that share a Redis', () => {
  let mailbox: SmtpMailbox;
  const prefix = `tokenpool-test-${randomBytes(6).toString('hex')}`;
  beforeAll(async () => {
    mailbox = await startSmtpMailbox();
  });
  afterAll(async () => {
    await mailbox?.close();
    await deleteRedisKeys(redisUrl as string, prefix);
  });

  it('runs every job of a recreated database, on the same Redis and prefix', { timeout: 90_000 }, async () => {
    for (const round of [1, 2]) {
      const fresh = await database();
      const deployment = await deploy(await environment(fresh.url, prefix, mailbox), ['api', 'worker']);
      await registerAndImport(deployment.url, mailbox, deployment.output);
      expect(deployment.output(), `round ${round}`).not.toContain('left alone');
      await deployment.stop();
    }
  });

  it('runs every job asked for after a dump taken before the last jobs is restored', { timeout: 90_000 }, async () => {
    const restored = await database();
    const snapshot = `${restored.name}_dump`;
    cleanups.push(() => serverQuery(`drop database if exists "${snapshot}" with (force)`));
    const env = await environment(restored.url, prefix, mailbox);

    const before = await deploy(env, ['api', 'worker']);
    await registerAndImport(before.url, mailbox, before.output);
    await before.stop();
    await serverQuery(`create database "${snapshot}" template "${restored.name}"`);

    // Jobs after the dump: their ids are the ones the restored database will hand out again.
    const after = await deploy(env, ['api', 'worker']);
    await registerAndImport(after.url, mailbox, after.output);
    await registerAndImport(after.url, mailbox, after.output);
    await after.stop();

    await serverQuery(`drop database "${restored.name}" with (force)`);
    await serverQuery(`create database "${restored.name}" template "${snapshot}"`);
    const again = await deploy(env, ['api', 'worker']);
    await registerAndImport(again.url, mailbox, again.output);
    await registerAndImport(again.url, mailbox, again.output);
  });

  it('runs only its own jobs in each of two deployments on one Redis and one prefix', { timeout: 90_000 }, async () => {
    const [left, right] = await Promise.all(
      [0, 1].map(async () => deploy(await environment((await database()).url, prefix, mailbox), ['serve'])),
    );
    const deployments = [left, right] as Array<Awaited<ReturnType<typeof deploy>>>;
    await Promise.all(deployments.map((deployment) => registerAndImport(deployment.url, mailbox, deployment.output)));
    await Promise.all(deployments.map((deployment) => registerAndImport(deployment.url, mailbox, deployment.output)));
    for (const deployment of deployments) expect(deployment.output()).not.toContain('left alone');
  });
});

describe.runIf(databaseUrl && redisUrl)('the key that signs access tokens, without JWT_SECRET', () => {
  const prefix = `tokenpool-test-${randomBytes(6).toString('hex')}`;
  afterAll(() => deleteRedisKeys(redisUrl as string, prefix));

  /** Every answer to `/users/me` as `token`, asked `times` times of each URL. */
  async function me(urls: string[], token: string, times: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let n = 0; n < times; n += 1) {
      for (const url of urls) statuses.push((await request(url, 'GET', '/users/me', token)).status);
    }
    return statuses;
  }

  it('is one for the HTTP processes of a first start: every one reads every token, and a logout ends it in all', {
    timeout: 60_000,
  }, async () => {
    const env = { ...(await environment((await database()).url, prefix)), WEB_CONCURRENCY: '2' };
    const { url } = await deploy(env, ['serve']);
    const token = await login(url);
    expect(await me([url], token, 12)).toEqual(Array(12).fill(200));
    expect((await request(url, 'POST', '/auth/logout', token)).status).toBe(204);
    expect(await me([url], token, 12)).toEqual(Array(12).fill(401));
  });

  it('is one for api processes with data directories of their own', { timeout: 60_000 }, async () => {
    const shared = await database();
    const [one, two] = await Promise.all(
      [0, 1].map(async () => deploy(await environment(shared.url, prefix), ['api'])),
    );
    const urls = [(one as { url: string }).url, (two as { url: string }).url];
    const token = await login(urls[0] as string);
    expect(await me(urls, token, 3)).toEqual(Array(6).fill(200));
    expect((await request(urls[1] as string, 'POST', '/auth/logout', token)).status).toBe(204);
    expect(await me(urls, token, 3)).toEqual(Array(6).fill(401));
  });
});
