import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { queryRows } from '../src/infra/db/database.js';
import { signInAdmin } from './helpers/admin.js';
import { client, PASSWORD, uniqueEmail } from './helpers/client.js';
import { testEnvironment } from './helpers/environment.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { type SmtpMailbox, startSmtpMailbox } from './helpers/mailbox.js';
import { type ServiceProcess, startProcess, waitFor } from './helpers/processes.js';

// Jobs are rows written with the change that asks for them, so neither an SMTP outage, nor a crash
// between the commit and the queue, nor a SIGKILL of the embedded service loses an e-mail.
const FAST_RETRIES = { JOB_BACKOFF_MS: '100', JOB_MAX_BACKOFF_MS: '300', JOB_POLL_MS: '100' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function smtp(): Promise<SmtpMailbox> {
  const mailbox = await startSmtpMailbox();
  cleanups.push(() => mailbox.close());
  return mailbox;
}

async function harnessWith(env: Record<string, string>, workers = true): Promise<Harness> {
  const harness = await startHarness({ ...FAST_RETRIES, ...env }, { workers });
  cleanups.push(() => harness.close());
  return harness;
}

describe('mail through an SMTP outage', () => {
  it('sends the welcome and reset e-mails asked for while the server was down once it is back', async () => {
    const mailbox = await smtp();
    mailbox.setAvailable(false);
    const harness = await harnessWith({ SMTP_URL: mailbox.smtpUrl });
    const api = client(harness.app);
    const email = uniqueEmail('outage');
    await api.register(email);
    expect((await api.post('/auth/forgot-password', { email })).statusCode).toBe(202);
    // Several attempts fail meanwhile.
    await sleep(1000);
    expect(await mailbox.all()).toEqual([]);
    mailbox.setAvailable(true);
    await mailbox.waitFor(email, 'Welcome');
    await mailbox.waitFor(email, 'Reset your Tokenpool password');
    await sleep(300);
    expect((await mailbox.all()).filter((mail) => mail.to.includes(email))).toHaveLength(2);
  });

  it('gives a mail up when the outage outlasts its retry window, and records it for an admin, without secrets', async () => {
    const mailbox = await smtp();
    mailbox.setAvailable(false);
    const harness = await harnessWith({ SMTP_URL: mailbox.smtpUrl, MAIL_RETRY_SECONDS: '1' });
    const api = client(harness.app);
    const user = await api.register(uniqueEmail('given-up'));
    const admin = await signInAdmin(harness);
    let failed: { id: string } | undefined;
    await waitFor(
      async () => {
        [failed] = (await api.get('/logs?action=job.failed', admin.accessToken)).json().data;
        return failed !== undefined;
      },
      10_000,
      () => 'no job.failed entry',
    );
    const entry = (await api.get(`/logs/${failed?.id}`, admin.accessToken)).json();
    expect(entry).toMatchObject({ action: 'job.failed', user: null });
    expect(Object.keys(entry.metadata).sort()).toEqual(['attempts', 'job', 'reason']);
    expect(entry.metadata).toMatchObject({ job: 'auth.welcome-email', attempts: expect.any(Number) });
    expect(entry.metadata.attempts).toBeGreaterThan(1);
    expect(JSON.stringify(entry.metadata)).not.toContain('token=');
    const [row] = await queryRows<{ status: string; payload: unknown }>(
      harness.runtime.database.db,
      sql`select status, payload from jobs where kind = 'auth.welcome-email'`,
    );
    expect(row).toEqual({ status: 'failed', payload: { userId: user.id } });
  });
});

describe('the embedded service killed with mail still to send', () => {
  it('sends every welcome e-mail exactly once after a restart', { timeout: 60_000 }, async () => {
    const mailbox = await smtp();
    mailbox.setAvailable(false);
    const dataDir = await mkdtemp(join(tmpdir(), 'tokenpool-durable-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    // PGlite and the in-process runner; only the mail goes to a (failing) SMTP server.
    const env = { ...FAST_RETRIES, DATA_DIR: dataDir, SMTP_URL: mailbox.smtpUrl, PUBLIC_URL: 'http://tokenpool.test' };
    let service: ServiceProcess = await startProcess('serve', env, 'warn');
    cleanups.push(() => service.stop('SIGKILL'));
    const emails = Array.from({ length: 5 }, () => uniqueEmail('killed'));
    for (const email of emails) {
      const response = await fetch(`${service.url}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Killed', email, password: PASSWORD }),
      });
      expect(response.status).toBe(201);
    }
    await sleep(500);
    await service.stop('SIGKILL');
    mailbox.setAvailable(true);

    service = await startProcess('serve', env, 'warn');
    for (const email of emails) await mailbox.waitFor(email, 'Welcome', 15_000);
    await sleep(1000);
    const welcomes = (await mailbox.all()).filter((mail) => mail.subject.includes('Welcome'));
    expect(welcomes).toHaveLength(emails.length);
    for (const email of emails) expect(welcomes.filter((mail) => mail.to.includes(email))).toHaveLength(1);
  });
});

describe.runIf(testEnvironment.databaseUrl && testEnvironment.redisUrl)('the relay to Redis', () => {
  let worker: ServiceProcess | undefined;
  afterAll(() => worker?.stop('SIGKILL'));

  it('relays jobs a process committed and never relayed (a SIGKILL between the two) from another process', async () => {
    const mailbox = await smtp();
    const harness = await harnessWith({ SMTP_URL: mailbox.smtpUrl }, false);
    // This process stops relaying: what it commits from now on stays in the table, as after a crash.
    await harness.runtime.queue.close();
    const email = uniqueEmail('unrelayed');
    await client(harness.app).register(email);
    const pending = await queryRows<{ status: string }>(
      harness.runtime.database.db,
      sql`select status from jobs where kind = 'auth.welcome-email'`,
    );
    expect(pending).toEqual([{ status: 'pending' }]);

    worker = await startProcess('worker', { ...harness.env, SMTP_URL: mailbox.smtpUrl });
    await mailbox.waitFor(email, 'Welcome', 15_000);
  });
});
