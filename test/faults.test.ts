import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from './helpers/admin.js';
import { expectProblem, PASSWORD, uniqueEmail } from './helpers/client.js';
import { testEnvironment } from './helpers/environment.js';
import { type FaultMode, type FaultProxy, startFaultProxy, targetOf, throughProxy } from './helpers/fault-proxy.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { expectPoolInvariants } from './helpers/pool-invariants.js';
import { startProcess, waitFor } from './helpers/processes.js';

const { databaseUrl, redisUrl } = testEnvironment;

// Each call comes from its own address unless a test says otherwise, so per-IP limits stay apart.
let addresses = 0;
const freshAddress = () => `10.9.${Math.floor(addresses / 250)}.${(addresses++ % 250) + 1}`;

interface Call {
  body?: object;
  token?: string;
  ip?: string;
}

function call(app: FastifyInstance, method: 'GET' | 'POST', url: string, { body, token, ip }: Call = {}) {
  return app.inject({
    method,
    url,
    ...(body ? { payload: body } : {}),
    headers: token ? { authorization: `Bearer ${token}` } : {},
    remoteAddress: ip ?? freshAddress(),
  });
}

/** The answer and how long it took, in milliseconds. */
async function timed(answer: Promise<LightMyRequestResponse>) {
  const started = performance.now();
  const response = await answer;
  return { response, ms: performance.now() - started };
}

const ready = (app: FastifyInstance) => timed(call(app, 'GET', '/health/ready'));

async function signUp(app: FastifyInstance) {
  const email = uniqueEmail();
  const registered = await call(app, 'POST', '/api/v1/auth/register', {
    body: { name: 'Faulty', email, password: PASSWORD },
  });
  expect(registered.statusCode, registered.body).toBe(201);
  const login = await call(app, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
  expect(login.statusCode, login.body).toBe(200);
  return { email, ...(login.json() as { accessToken: string; refreshToken: string }) };
}

/** Takes the dependency away: nothing new connects, and what was connected is cut or left hanging. */
async function takeAway(proxy: FaultProxy, mode: Exclude<FaultMode, 'forward'>) {
  await proxy.setMode(mode);
  // A refusal cuts the open connections too; a black hole leaves them open but silent.
  if (mode === 'refuse') proxy.dropConnections();
}

function expectUnavailable(response: LightMyRequestResponse) {
  expectProblem(response, 503, 'UNAVAILABLE');
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
}

// The production shape, PostgreSQL with Redis.
describe.runIf(databaseUrl && redisUrl)('when Redis is away', () => {
  // The least the configuration allows, to keep the test short.
  const SOCKET_TIMEOUT_MS = 12_000;
  let proxy: FaultProxy;
  let harness: Harness;
  const logs: string[] = [];
  const outageWarnings = () => logs.filter((line) => line.includes('"msg":"Redis is unavailable')).length;

  /** Waits until a login's rate-limit hit lands in Redis again, where every process sees it. */
  async function countsInRedisAgain(email: string) {
    const redis = new Redis(redisUrl as string);
    try {
      await waitFor(
        async () => {
          const ip = freshAddress();
          await call(harness.app, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD }, ip });
          return (await redis.exists(`${harness.runtime.redisPrefix}:rate:route:login:ip:${ip}`)) === 1;
        },
        10_000,
        () => 'the rate limiter did not return to Redis',
      );
    } finally {
      await redis.quit();
    }
  }

  beforeAll(async () => {
    proxy = await startFaultProxy(targetOf(redisUrl as string, 6379));
    harness = await startHarness(
      { LOGIN_RATE_LIMIT: '5', REDIS_SOCKET_TIMEOUT_MS: String(SOCKET_TIMEOUT_MS), SHUTDOWN_TIMEOUT_MS: '5000' },
      {
        logger: pino({ level: 'warn' }, { write: (line: string) => logs.push(line) }),
        environment: (env) => ({ ...env, REDIS_URL: throughProxy(env.REDIS_URL as string, proxy) }),
      },
    );
  });
  afterAll(async () => {
    await proxy?.setMode('forward');
    await harness?.close();
    await proxy?.close();
  });

  it.each(['refuse', 'blackhole'] as const)(
    'logs in, registers, refreshes, sends resets and leases while Redis is %sd, and is ready again once it is back',
    async (mode) => {
      const { app } = harness;
      const user = await signUp(app);
      const warningsBefore = outageWarnings();
      await takeAway(proxy, mode);

      const post = (url: string, body: object, token?: string) => call(app, 'POST', `/api/v1${url}`, { body, token });
      const newcomer = uniqueEmail();
      const answers = [
        ['login', 200, () => post('/auth/login', { email: user.email, password: PASSWORD })],
        ['register', 201, () => post('/auth/register', { name: 'N', email: newcomer, password: PASSWORD })],
        ['refresh', 200, () => post('/auth/refresh', { refreshToken: user.refreshToken })],
        ['forgot-password', 202, () => post('/auth/forgot-password', { email: user.email })],
        ['lease', 201, () => post('/tokens/lease', {}, user.accessToken)],
      ] as const;
      for (const [name, status, answer] of answers) {
        const { response, ms } = await timed(answer());
        expect(response.statusCode, `${name}: ${response.body}`).toBe(status);
        expect(ms, name).toBeLessThan(5000);
      }
      expect(outageWarnings() - warningsBefore).toBe(1);

      const notReady = await ready(app);
      expect(notReady.ms).toBeLessThan(1500);
      expectUnavailable(notReady.response);
      expect(notReady.response.json().checks).toEqual({ database: 'up', redis: 'down' });
      expect((await timed(call(app, 'GET', '/health/live'))).response.statusCode).toBe(200);

      await proxy.setMode('forward');
      await waitFor(
        async () => (await ready(app)).response.statusCode === 200,
        10_000,
        () => 'readiness did not return once Redis was back',
      );
      expect((await ready(app)).response.json()).toEqual({
        status: 'ok',
        checks: { database: 'up', redis: 'up', jobs: 'up' },
        stuckJobs: 0,
      });
      await countsInRedisAgain(user.email);
      // The job written with the registration waited in the database and is relayed now.
      await harness.mailbox.waitFor(newcomer, 'Welcome', 15_000);
      // An outage is a warning, once per part that noticed it, not an error per failed reconnect.
      expect(logs.filter((line) => line.includes('"level":50'))).toEqual([]);
    },
  );

  it('still limits logins, per process, while Redis is away', async () => {
    const { app } = harness;
    const { email } = await signUp(app);
    await takeAway(proxy, 'refuse');
    const ip = freshAddress();
    const forgot = () => call(app, 'POST', '/api/v1/auth/forgot-password', { body: { email }, ip });
    for (let i = 0; i < 5; i += 1) expect((await forgot()).statusCode).toBe(202);
    expectProblem(await forgot(), 429, 'RATE_LIMITED');
    await proxy.setMode('forward');
    await countsInRedisAgain(email);
  });

  it('runs jobs again after a black hole that swallowed the connections made during it', async () => {
    // Longer than BullMQ's wait for a job (5 s idle) and its watchdog (1 s): the worker drops its
    // waiting connection and connects again, into the black hole, which accepts and never answers.
    await takeAway(proxy, 'blackhole');
    await new Promise((resolve) => setTimeout(resolve, 7500));
    await proxy.setMode('forward');
    const { email } = await signUp(harness.app);
    // The connections made in the dark are dropped after REDIS_SOCKET_TIMEOUT_MS, and made again.
    await harness.mailbox.waitFor(email, 'Welcome', SOCKET_TIMEOUT_MS + 10_000);
    // And the worker goes on taking jobs, not just the one that was waiting.
    const next = await signUp(harness.app);
    await harness.mailbox.waitFor(next.email, 'Welcome', 10_000);
  }, 60_000);
});

describe.runIf(databaseUrl)('when PostgreSQL is away', () => {
  const CONNECT_TIMEOUT_MS = 500;
  const QUERY_TIMEOUT_MS = 1000;
  let proxy: FaultProxy;
  let harness: Harness;
  let admin: { accessToken: string };

  beforeAll(async () => {
    proxy = await startFaultProxy(targetOf(databaseUrl as string, 5432));
    harness = await startHarness(
      { DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS), DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS) },
      {
        workers: false,
        environment: (env) => ({ ...env, DATABASE_URL: throughProxy(env.DATABASE_URL as string, proxy) }),
      },
    );
    admin = await signInAdmin(harness);
  });
  afterAll(async () => {
    await proxy?.setMode('forward');
    await harness?.close();
    await proxy?.close();
  });

  const lease = () =>
    call(harness.app, 'POST', '/api/v1/tokens/lease', { token: admin.accessToken, body: { userId: randomUUID() } });

  it.each(['refuse', 'blackhole'] as const)(
    'answers 503 with Retry-After while PostgreSQL is %sd, within its timeouts, and recovers by itself',
    async (mode) => {
      const { app } = harness;
      const user = await signUp(app);
      expect((await lease()).statusCode).toBe(201);
      await takeAway(proxy, mode);

      // A connection that stalls mid-transaction costs a statement and its rollback, each bounded.
      const bound = CONNECT_TIMEOUT_MS + 2 * QUERY_TIMEOUT_MS + 1500;
      const leased = await timed(lease());
      expectUnavailable(leased.response);
      expect(leased.ms).toBeLessThan(bound);
      const login = await timed(
        call(app, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: PASSWORD } }),
      );
      expectUnavailable(login.response);
      expect(login.ms).toBeLessThan(bound);

      const notReady = await ready(app);
      expect(notReady.ms).toBeLessThan(1500);
      expectUnavailable(notReady.response);
      expect(notReady.response.json().checks).toEqual({ database: 'down', ...(redisUrl ? { redis: 'up' } : {}) });
      expect((await timed(call(app, 'GET', '/health/live'))).response.statusCode).toBe(200);

      await proxy.setMode('forward');
      await waitFor(
        async () => (await lease()).statusCode === 201,
        10_000,
        () => 'leases did not return',
      );
      expect((await ready(app)).response.statusCode).toBe(200);
      // Requests cut mid-transaction left the pool whole.
      await expectPoolInvariants(harness.runtime.database.db, harness.config.TOKEN_POOL_SIZE);
    },
  );

  it('recovers by itself when PostgreSQL vanished from its open connections without closing them', async () => {
    expect((await lease()).statusCode).toBe(201);
    // Every pooled connection goes silent for good; a new one would be answered.
    proxy.strandConnections();
    const bound = CONNECT_TIMEOUT_MS + 2 * QUERY_TIMEOUT_MS + 1500;
    const leased = await timed(lease());
    expect([201, 503]).toContain(leased.response.statusCode);
    expect(leased.ms).toBeLessThan(bound);
    await waitFor(
      async () => (await lease()).statusCode === 201,
      10_000,
      () => 'leases did not return',
    );
    expect((await ready(harness.app)).response.statusCode).toBe(200);
    await expectPoolInvariants(harness.runtime.database.db, harness.config.TOKEN_POOL_SIZE);
  });

  it('answers a waiting request 503 once its time is up while PostgreSQL is away, and lets it wait again after', async () => {
    const { app } = harness;
    // A full pool, whatever the tests before left in it.
    await Promise.all(Array.from({ length: harness.config.TOKEN_POOL_SIZE }, () => lease()));
    const wait = (waitSeconds: number) =>
      timed(
        call(app, 'POST', '/api/v1/tokens/lease', {
          token: admin.accessToken,
          body: { userId: randomUUID(), onFull: 'wait', waitSeconds },
        }),
      );
    const waiting = async () =>
      (await call(app, 'GET', '/api/v1/tokens?status=active', { token: admin.accessToken })).json().meta.waiting;
    const asked = wait(2);
    await waitFor(
      async () => (await waiting()) === 1,
      5_000,
      () => 'the request never waited',
    );
    await takeAway(proxy, 'blackhole');

    // Its claims fail, each within its timeouts; once its two seconds are up, the next failure is its answer.
    const { response, ms } = await asked;
    expectUnavailable(response);
    expect(ms).toBeLessThan(2000 + 1000 + 2 * (CONNECT_TIMEOUT_MS + 2 * QUERY_TIMEOUT_MS) + 1500);

    await proxy.setMode('forward');
    await waitFor(
      async () => (await lease()).statusCode === 201,
      10_000,
      () => 'leases did not return',
    );
    const again = await wait(1);
    expectProblem(again.response, 409, 'POOL_FULL');
    expect(again.ms).toBeGreaterThanOrEqual(1000);
  });
});

describe.runIf(databaseUrl)('a SIGTERM while PostgreSQL is away', () => {
  it('stops the process within SHUTDOWN_TIMEOUT_MS, whatever the database does', async () => {
    const proxy = await startFaultProxy(targetOf(databaseUrl as string, 5432));
    const harness = await startHarness(
      {},
      {
        workers: false,
        environment: (env) => ({ ...env, DATABASE_URL: throughProxy(env.DATABASE_URL as string, proxy) }),
      },
    );
    try {
      const api = await startProcess('api', { ...harness.env, SHUTDOWN_TIMEOUT_MS: '2000' }, 'info');
      // Connections open, then silent: every close waits on a database that never answers.
      await fetch(`${api.url}/health/ready`);
      await takeAway(proxy, 'blackhole');
      const started = performance.now();
      const code = await api.stop('SIGTERM');
      expect(performance.now() - started).toBeLessThan(4000);
      expect([0, 1]).toContain(code);
      expect(api.output()).toContain('"msg":"shutting down"');
    } finally {
      await proxy.setMode('forward');
      await harness.close();
      await proxy.close();
    }
  });
});
