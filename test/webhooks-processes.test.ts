import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { queryRows } from '../src/infra/db/database.js';
import { signInAdmin } from './helpers/admin.js';
import { client, PASSWORD, uniqueEmail } from './helpers/client.js';
import { testEnvironment } from './helpers/environment.js';
import { startHarness } from './helpers/harness.js';
import { type ServiceProcess, startProcess } from './helpers/processes.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

// A delivery is written with the pool change that causes it, so a SIGKILL of the process that
// committed the change, right after the commit, loses no event.
const FAST_RETRIES = {
  JOB_BACKOFF_MS: '100',
  WEBHOOK_MAX_BACKOFF_MS: '300',
  JOB_POLL_MS: '100',
  WEBHOOK_ALLOW_PRIVATE: 'true',
};
const LEASES = 5;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(answer: (n: number) => number): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(answer);
  cleanups.push(() => started.close());
  return started;
}

async function call(service: ServiceProcess, path: string, token: string | undefined, body?: unknown) {
  const response = await fetch(`${service.url}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body ?? {}),
  });
  expect(response.status, await response.clone().text()).toBeLessThan(300);
  return response.json();
}

/** Leases a token for each of `LEASES` new holders through `service`; answers the holders. */
async function leaseMany(service: ServiceProcess, token: string): Promise<string[]> {
  const holders = Array.from({ length: LEASES }, () => randomUUID());
  for (const userId of holders) await call(service, '/tokens/lease', token, { userId });
  return holders;
}

async function expectLeasesHeard(endpoint: WebhookReceiver, secret: string, holders: string[]) {
  for (const userId of holders) {
    await endpoint.waitForEvent(secret, (event) => event.type === 'token.leased' && event.data.userId === userId);
  }
}

describe('the embedded service killed with deliveries still to make', () => {
  it('delivers every event after a restart', { timeout: 90_000 }, async () => {
    let up = false;
    const endpoint = await receiver(() => (up ? 204 : 503));
    const dataDir = await mkdtemp(join(tmpdir(), 'tokenpool-webhooks-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const email = uniqueEmail('hooks-admin');
    const env = {
      ...FAST_RETRIES,
      DATA_DIR: dataDir,
      ADMIN_EMAIL: email,
      ADMIN_PASSWORD: PASSWORD,
      PUBLIC_URL: 'http://tokenpool.test',
    };
    let service = await startProcess('serve', env, 'warn');
    cleanups.push(() => service.stop('SIGKILL'));
    const { accessToken } = await call(service, '/auth/login', undefined, { email, password: PASSWORD });
    const hook = await call(service, '/webhooks', accessToken, { url: endpoint.url, events: ['token.leased'] });
    const holders = await leaseMany(service, accessToken);
    // Killed as soon as the last lease is answered: its delivery has had no attempt yet, or a failed one.
    await service.stop('SIGKILL');
    up = true;

    service = await startProcess('serve', env, 'warn');
    await expectLeasesHeard(endpoint, hook.secret, holders);
  });
});

describe.runIf(testEnvironment.databaseUrl && testEnvironment.redisUrl)(
  'an api process killed after the commit',
  () => {
    it('leaves deliveries that a worker started later makes', { timeout: 90_000 }, async () => {
      const endpoint = await receiver(() => 204);
      // This process shares the test database and Redis prefix but relays nothing: it only registers.
      const harness = await startHarness(FAST_RETRIES, { workers: false });
      cleanups.push(() => harness.close());
      await harness.runtime.queue.close();
      const { accessToken } = await signInAdmin(harness);
      const registered = await client(harness.app).post(
        '/webhooks',
        { url: endpoint.url, events: ['token.leased'] },
        accessToken,
      );
      expect(registered.statusCode, registered.body).toBe(201);
      const hook = registered.json();

      // It looks for jobs to relay once a minute, and nothing on this path wakes it sooner.
      const api = await startProcess('api', { ...harness.env, JOB_POLL_MS: '60000' }, 'warn');
      cleanups.push(() => api.stop('SIGKILL'));
      const holders = await leaseMany(api, accessToken);
      await api.stop('SIGKILL');
      const pending = await queryRows<{ status: string }>(
        harness.runtime.database.db,
        sql`select status from jobs where kind = 'webhooks.deliver'`,
      );
      expect(pending).toEqual(Array.from({ length: LEASES }, () => ({ status: 'pending' })));
      expect(endpoint.received).toEqual([]);

      const worker = await startProcess('worker', harness.env);
      cleanups.push(() => worker.stop('SIGKILL'));
      await expectLeasesHeard(endpoint, hook.secret, holders);
    });
  },
);
