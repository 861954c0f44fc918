/// <reference lib="dom" />
// The functions given to page.evaluate run in the browser.
import { sql } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../src/infra/db/database.js';
import { signInAdmin } from './helpers/admin.js';
import { browserAvailable, launchBrowser, screenshot } from './helpers/browser.js';
import { client, PASSWORD, uniqueEmail } from './helpers/client.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { generateCsv } from './helpers/imports.js';
import { freePort, startProcess } from './helpers/processes.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

const POOL = 12;
/** Short, so the dashboard has to refresh its session while the tests run. */
const ACCESS_TTL_SECONDS = 20;
const PHONE_WIDTH = 390;

/** Retries an assertion until it holds: the page changes on its own time (events, countdowns). */
async function eventually(assertion: () => Promise<void> | void, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const heading = (page: Page) => page.locator('h1').innerText();
/** Follows a link of the header's navigation. */
const goTo = (page: Page, section: string) =>
  page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: section, exact: true }).click();
const cells = (page: Page, state: 'free' | 'held' | 'mine') => page.locator(`.grid a[data-state="${state}"]`);

describe.skipIf(!browserAvailable)('the dashboard in a real browser', () => {
  // A harness of its own rather than useHarness: one test restarts the service under the page.
  let harness: Harness;
  let api: ReturnType<typeof client>;
  let browser: Browser;
  let base: string;
  let port: number;
  let admin: { email: string; accessToken: string };
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    harness = await startHarness({
      PUBLIC_URL: base,
      TOKEN_POOL_SIZE: String(POOL),
      ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TTL_SECONDS),
      // The webhook receiver listens on 127.0.0.1.
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    await harness.app.listen({ port, host: '127.0.0.1' });
    api = client(harness.app);
    admin = await signInAdmin(harness);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    // Well inside the test's own time limit, so a missing element fails with its own message.
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // An answer of 401 or 409 is logged by the browser too; those are the API's, not the page's.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        pageErrors.push(message.text());
      }
    });
  });

  let receiver: WebhookReceiver | undefined;
  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    await receiver?.close();
  });

  it('shows a visitor who is not signed in only the sign-in page, and signs the admin in', async () => {
    await page.goto(`${base}/users`);
    await eventually(async () => expect(await heading(page)).toBe('Sign in'));
    await expect(page.locator('nav[aria-label="Sections"]').count()).resolves.toBe(0);
    await screenshot(page, 'sign-in');

    await page.getByLabel('E-mail').fill(admin.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await eventually(async () => expect(await page.getByRole('alert').innerText()).toMatch(/e-mail or password/i));

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Signed in, the page asked for is shown.
    await eventually(async () => expect(await heading(page)).toBe('Users'));
    await goTo(page, 'Pool');
    await eventually(async () => expect(await page.locator('.grid a').count()).toBe(POOL));
    await eventually(async () => expect(await page.locator('.live').innerText()).toBe('Live'));
    expect(await page.locator('[data-count="available"]').innerText()).toBe(String(POOL));
  });

  it('leases a token: its cell turns held by you, with a countdown that runs', async () => {
    await page.getByRole('button', { name: 'Lease a token' }).click();
    await eventually(async () => expect(await cells(page, 'mine').count()).toBe(1));
    const time = cells(page, 'mine').locator('.cell-time');
    const first = await time.innerText();
    expect(first).toMatch(/^[12]:\d\d$/);
    await eventually(async () => expect(await time.innerText()).not.toBe(first), 3000);
    expect(await page.locator('.lease-panel').innerText()).toMatch(/You hold token [0-9a-f]{8} under fence \d+ until/);
    expect(await page.locator('[data-count="active"]').innerText()).toBe('1');
    await screenshot(page, 'pool');
  });

  it("shows another client's lease and release live, without a reload", async () => {
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    const other = await api.signUp();
    const lease = (await api.post('/tokens/lease', {}, other.accessToken)).json();
    const cell = page.locator(`.grid a[data-token="${lease.tokenId}"]`);
    await eventually(async () => expect(await cell.getAttribute('data-state')).toBe('held'));
    expect(await cell.locator('.cell-holder').innerText()).toBe(other.user.id.slice(0, 8));
    expect(await cell.locator('.cell-time').innerText()).toMatch(/^[12]:\d\d$/);
    expect(await page.locator('[data-count="active"]').innerText()).toBe('2');

    await api.post(`/tokens/${lease.tokenId}/release`, undefined, other.accessToken);
    await eventually(async () => expect(await cell.getAttribute('data-state')).toBe('free'));
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  });

  it('counts the requests waiting for a token, live', async () => {
    // Fill the pool around my lease, then one request waits a second for a token and gives up.
    const others = await Promise.all(
      Array.from({ length: POOL - 1 }, () =>
        api.post('/tokens/lease', { userId: crypto.randomUUID() }, admin.accessToken),
      ),
    );
    const waiting = api.post(
      '/tokens/lease',
      { userId: crypto.randomUUID(), onFull: 'wait', waitSeconds: 2 },
      admin.accessToken,
    );
    await eventually(async () => expect(await page.locator('[data-count="waiting"]').innerText()).toBe('1'));
    expect((await waiting).statusCode).toBe(409);
    await eventually(async () => expect(await page.locator('[data-count="waiting"]').innerText()).toBe('0'));
    for (const other of others) {
      await api.post(`/tokens/${other.json().tokenId}/release`, undefined, admin.accessToken);
    }
    await eventually(async () => expect(await page.locator('[data-count="active"]').innerText()).toBe('1'));
  });

  it('reconnects after the service restarts and catches up on what it missed', async () => {
    await harness.restart();
    api = client(harness.app);
    await eventually(async () => expect(await page.locator('.live').innerText()).toBe('Connecting…'));
    // Leased while the page had no stream: no event reaches it, the list it reloads does.
    const other = await api.signUp();
    const lease = (await api.post('/tokens/lease', {}, other.accessToken)).json();
    await harness.app.listen({ port, host: '127.0.0.1' });
    await eventually(async () => expect(await page.locator('.live').innerText()).toBe('Live'), 20_000);
    const cell = page.locator(`.grid a[data-token="${lease.tokenId}"]`);
    await eventually(async () => expect(await cell.getAttribute('data-state')).toBe('held'));
    await api.post(`/tokens/${lease.tokenId}/release`, undefined, other.accessToken);
    await eventually(async () => expect(await cell.getAttribute('data-state')).toBe('free'));
  });

  it.skipIf(!process.env.REDIS_URL)('shows a lease made through another api process, through Redis', async () => {
    const other = await startProcess('api', harness.env, 'warn');
    try {
      const user = await api.signUp();
      const response = await fetch(`${other.url}/api/v1/tokens/lease`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status).toBe(201);
      const lease = (await response.json()) as { tokenId: string };
      const cell = page.locator(`.grid a[data-token="${lease.tokenId}"]`);
      await eventually(async () => expect(await cell.getAttribute('data-state')).toBe('held'));
      await fetch(`${other.url}/api/v1/tokens/${lease.tokenId}/release`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.accessToken}` },
      });
      await eventually(async () => expect(await cell.getAttribute('data-state')).toBe('free'));
    } finally {
      await other.stop();
    }
  });

  it('releases my token, and opening it shows its history', async () => {
    const mine = await cells(page, 'mine').getAttribute('data-token');
    await page.getByRole('button', { name: 'Release my token' }).click();
    await eventually(async () => expect(await cells(page, 'mine').count()).toBe(0));
    expect(await page.locator('.lease-panel').innerText()).toContain('You hold no token.');

    await page.locator(`.grid a[data-token="${mine}"]`).click();
    await eventually(async () => expect(await heading(page)).toBe(`Token ${mine?.slice(0, 8)}`));
    await eventually(async () =>
      expect(await page.locator('table tbody tr').first().innerText()).toMatch(/you.*released/s),
    );
    await screenshot(page, 'token');
    await page.getByRole('link', { name: 'Back to the pool' }).click();
    await eventually(async () => expect(await page.locator('.grid a').count()).toBe(POOL));
  });

  it('lets an admin clear every lease, only after confirming', async () => {
    const others = await Promise.all([api.signUp(), api.signUp()]);
    for (const other of others) await api.post('/tokens/lease', {}, other.accessToken);
    await eventually(async () => expect(await cells(page, 'held').count()).toBe(2));

    await page.getByRole('button', { name: 'Clear all leases' }).click();
    const dialog = page.getByRole('dialog');
    await eventually(async () => expect(await dialog.innerText()).toContain('2 active leases'));
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await cells(page, 'held').count()).toBe(2);

    await page.getByRole('button', { name: 'Clear all leases' }).click();
    await dialog.getByRole('button', { name: 'Clear all leases' }).click();
    await eventually(async () => expect(await cells(page, 'held').count()).toBe(0));
    expect(await page.locator('.lease-panel').innerText()).toContain('Cleared 2 leases.');
  });

  it('uploads a CSV and watches the bar climb to 100 % with the right counts and bad rows', async () => {
    // 30,000 good rows, one repeated, one already an account, and two bad rows at known lines.
    const rows = generateCsv(30_000).trimEnd().split('\n');
    rows.splice(3, 0, 'No Email,not-an-email,1990-01-01'); // line 4
    rows.splice(6, 0, `Admin Again,${admin.email},1990-01-01`); // line 7: already an account
    rows.push(rows[1] as string); // the first row again
    rows.push('Future Child,future.child@example.com,2999-01-01'); // the last line
    const lastLine = rows.length;
    const csv = `${rows.join('\n')}\n`;

    await goTo(page, 'Imports');
    await eventually(async () => expect(await heading(page)).toBe('Imports'));
    await page
      .locator('#import-file')
      .setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await eventually(async () => expect(await page.locator('.dropzone').innerText()).toContain('people.csv'));
    await page.getByRole('button', { name: 'Import users' }).click();

    const bar = page.getByRole('progressbar');
    await bar.waitFor();
    // Every value the bar shows, as the page changes it.
    await page.evaluate(() => {
      const seen: number[] = [];
      Object.assign(window, { progressSeen: seen });
      const read = () => {
        const value = Number(document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow'));
        if (seen.at(-1) !== value) seen.push(value);
      };
      read();
      new MutationObserver(read).observe(document.body, { subtree: true, attributes: true, childList: true });
    });
    await eventually(async () => expect(await bar.getAttribute('aria-valuenow')).toBe('100'), 60_000);
    await eventually(async () => expect(await page.locator('.badge.completed').count()).toBeGreaterThan(0));
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
    expect(seen.at(-1)).toBe(100);
    expect(seen[0]).toBeLessThan(100);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));

    expect(await page.locator('[data-count="created"]').innerText()).toBe('30,000');
    expect(await page.locator('[data-count="duplicate"]').innerText()).toBe('2');
    expect(await page.locator('[data-count="invalid"]').innerText()).toBe('2');
    const badRows = await page.locator('section[aria-labelledby="bad-rows"] tbody tr').allInnerTexts();
    expect(badRows).toHaveLength(2);
    expect(badRows[0]).toMatch(/^4\s+.*e-?mail/i);
    expect(badRows[1]).toMatch(new RegExp(`^${lastLine}\\s+.*birth`, 'i'));
    await screenshot(page, 'import');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download errors.csv' }).click(),
    ]);
    const path = await download.path();
    const { readFile } = await import('node:fs/promises');
    const errorsCsv = await readFile(path, 'utf8');
    expect(errorsCsv).toContain('not-an-email');
    expect(errorsCsv).toContain('future.child@example.com');

    await page.getByRole('link', { name: 'All imports' }).click();
    await eventually(async () =>
      expect(await page.locator('tbody tr').first().innerText()).toMatch(/people\.csv\s+completed\s+30,000\s+2\s+2/),
    );
    await screenshot(page, 'imports');
  });

  it('lists those actions in the audit log, filters by action and user, and opens an entry', async () => {
    await goTo(page, 'Audit log');
    await eventually(async () => expect(await heading(page)).toBe('Audit log'));
    await page.getByLabel('Action').selectOption('token.leased');
    await page.getByRole('button', { name: 'Filter' }).click();
    await eventually(async () => {
      const actions = await page.locator('tbody td.mono').allInnerTexts();
      expect(actions.length).toBeGreaterThanOrEqual(4);
      expect(new Set(actions)).toEqual(new Set(['token.leased']));
    });
    expect(page.url()).toContain('action=token.leased');

    // Everything the admin did, as their own entries.
    const [me] = await queryRows<{ id: string }>(
      harness.runtime.database.db,
      sql`select id from users where email = ${admin.email}`,
    );
    await page.getByLabel('Action').selectOption('');
    await page.getByLabel('User id').fill(me?.id ?? '');
    await page.getByRole('button', { name: 'Filter' }).click();
    await eventually(async () => {
      const actions = await page.locator('tbody td.mono').allInnerTexts();
      expect(actions).toEqual(expect.arrayContaining(['tokens.cleared', 'token.released', 'import.queued']));
    });
    await page.getByLabel('User id').fill('nobody');
    await page.getByRole('button', { name: 'Filter' }).click();
    expect(await page.locator('#filter-user-error').innerText()).toMatch(/UUID/);

    await page.goto(`${base}/audit?action=import.completed`);
    await eventually(async () =>
      expect(await page.locator('tbody td.mono').allInnerTexts()).toEqual(['import.completed']),
    );
    await screenshot(page, 'audit');
    await page.getByRole('link', { name: /details of import\.completed$/ }).click();
    await eventually(async () => expect(await heading(page)).toBe('import.completed'));
    const details = await page.locator('.details').innerText();
    expect(details).toMatch(/none \(a background job/);
    expect(details).toContain('"createdRows": 30000');
    await screenshot(page, 'audit-entry');
  });

  it('pages through the users, 10 at a time', async () => {
    await goTo(page, 'Users');
    await eventually(async () => expect(await page.locator('tbody tr').count()).toBe(10));
    expect(await page.locator('.pager').innerText()).toMatch(/Page 1 of 3,00\d/);
    const firstPage = await page.locator('tbody tr').first().innerText();
    await page.getByRole('button', { name: 'Next' }).click();
    await eventually(async () => expect(await page.locator('.pager').innerText()).toMatch(/Page 2 of/));
    expect(page.url()).toContain('page=2');
    expect(await page.locator('tbody tr').count()).toBe(10);
    expect(await page.locator('tbody tr').first().innerText()).not.toBe(firstPage);
    await screenshot(page, 'users');
  });

  it('registers a webhook, shows its secret once, then its deliveries, and deletes it after confirming', async () => {
    receiver = await startWebhookReceiver();
    await goTo(page, 'Webhooks');
    expect(await heading(page)).toBe('Webhooks');
    await page.getByLabel('Endpoint URL').fill(receiver.url);
    await page.getByLabel('Description (optional)').fill('dashboard test');
    await page.getByLabel('token.released').uncheck();
    await page.getByRole('button', { name: 'Register the endpoint' }).click();
    const secret = await page.getByLabel('Signing secret').inputValue();
    expect(secret).toMatch(/^whsec_/);
    const row = page.locator('tbody tr', { hasText: receiver.url });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.innerText()).toContain('dashboard test');
    expect(await row.innerText()).not.toContain('token.released');
    await screenshot(page, 'webhooks');

    // Someone leases (a fresh account: the admin's first access token has expired by now).
    const holder = await api.signUp();
    const leased = await api.post('/tokens/lease', {}, holder.accessToken);
    expect(leased.statusCode).toBe(201);
    await receiver.waitForEvent(
      secret,
      (event) => event.type === 'token.leased' && event.data.userId === holder.user.id,
    );

    await row.getByRole('link').click();
    expect(await heading(page)).toBe('Deliveries');
    await eventually(async () => {
      await page.reload();
      const first = await page.locator('tbody tr').first().innerText();
      expect(first).toContain('token.leased');
      expect(first).toContain('delivered');
    });
    await screenshot(page, 'webhook-deliveries');

    await page.getByRole('link', { name: 'All webhooks' }).click();
    await row.waitFor();
    // Shown once: back on the list, the secret is gone for good.
    expect(await page.getByLabel('Signing secret').count()).toBe(0);
    await row.getByRole('button', { name: /^Delete/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => row.count()).toBe(0);
  });

  it('makes a service account and a key for it, shown once; the key leases, is rotated, then revoked after confirming', async () => {
    const leaseWith = (key: string) =>
      fetch(`${base}/api/v1/tokens/lease`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: '{}',
      });
    const releaseWith = (key: string, tokenId: string) =>
      fetch(`${base}/api/v1/tokens/${tokenId}/release`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
      });
    const rowOf = (key: string) => page.locator('tbody tr', { hasText: key.slice(0, 12) });
    const shownKey = page.getByLabel(/^New API key/);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });

    await goTo(page, 'API keys');
    await eventually(async () => expect(await heading(page)).toBe('API keys'));
    await page.getByLabel('Service account name').fill('ci-runners');
    await page.getByLabel('Role').selectOption('user');
    await page.getByRole('button', { name: 'Make the service account' }).click();
    const owner = page.getByLabel('Owner');
    await eventually(async () => expect(await owner.locator('option', { hasText: 'ci-runners' }).count()).toBe(1));
    await owner.selectOption({ label: 'ci-runners (service account, user)' });
    const accountId = await owner.inputValue();
    // The account's role may not hold the admin scopes, so the form stops offering them.
    await eventually(async () => expect(await page.getByLabel('pools:admin').count()).toBe(0));
    await page.getByLabel('Name', { exact: true }).fill('ci');
    await page.getByLabel('tokens:lease').check();
    await page.getByRole('button', { name: 'Make the key' }).click();

    // Shown once, with its warning and a copy button that really copies it.
    const key = await shownKey.inputValue();
    expect(key).toMatch(/^tp_sk_[0-9A-Za-z]{38}$/);
    expect(await page.getByRole('status').filter({ has: shownKey }).innerText()).toContain('will not be shown again');
    await page.getByRole('button', { name: 'Copy the key' }).click();
    await eventually(async () => expect(await page.getByText('Copied.').count()).toBe(1));
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    await expect.poll(() => rowOf(key).count()).toBe(1);
    const listed = await rowOf(key).innerText();
    expect(listed).toMatch(/ci\s+tp_sk_\w{6}…\s+tokens:lease\s+all\s+ci-runners\s/);
    expect(listed).toContain('never');
    expect(await page.locator('table').innerHTML()).not.toContain(key.slice(12));
    await screenshot(page, 'api-keys');

    // The key leases as the service account.
    const leased = await leaseWith(key);
    expect(leased.status).toBe(201);
    const lease = (await leased.json()) as { tokenId: string; userId: string };
    expect(lease.userId).toBe(accountId);
    expect((await releaseWith(key, lease.tokenId)).ok).toBe(true);
    // Gone for good once the page is left; the list shows the use.
    await page.reload();
    await expect.poll(() => rowOf(key).count()).toBe(1);
    expect(await shownKey.count()).toBe(0);
    expect(await rowOf(key).innerText()).not.toContain('never');

    // Rotated with the default overlap: a new key, shown once the same way; the old one works on.
    await rowOf(key)
      .getByRole('button', { name: /^Rotate/ })
      .click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.getByLabel('Overlap (seconds)').inputValue()).toBe('86400');
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    await eventually(async () => expect(await shownKey.inputValue()).not.toBe(key));
    const rotated = await shownKey.inputValue();
    expect(rotated).toMatch(/^tp_sk_[0-9A-Za-z]{38}$/);
    expect(await page.getByRole('status').filter({ has: shownKey }).innerText()).toContain('will not be shown again');
    await expect.poll(() => rowOf(rotated).count()).toBe(1);
    expect(await rowOf(rotated).innerText()).toContain('tokens:lease');
    const again = await leaseWith(rotated);
    expect(again.status).toBe(201);
    expect((await releaseWith(key, ((await again.json()) as { tokenId: string }).tokenId)).ok).toBe(true);

    // Revoked only once confirmed; then it leaves the list and answers 401 at once. The old key too.
    for (const secret of [rotated, key]) {
      await rowOf(secret)
        .getByRole('button', { name: /^Revoke/ })
        .click();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect(await rowOf(secret).count()).toBe(1);
      await rowOf(secret)
        .getByRole('button', { name: /^Revoke/ })
        .click();
      await dialog.getByRole('button', { name: 'Revoke' }).click();
      await expect.poll(() => rowOf(secret).count()).toBe(0);
      const refused = await leaseWith(secret);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { code: string }).code).toBe('API_KEY_REVOKED');
    }
  });

  it('keeps the session alive by refreshing it, in two tabs at once, then signs out cleanly', async () => {
    const [me] = await queryRows<{ id: string }>(
      harness.runtime.database.db,
      sql`select id from users where email = ${admin.email}`,
    );
    const count = async (action: string) =>
      (
        await queryRows<{ count: number }>(
          harness.runtime.database.db,
          sql`select count(*)::int as count from audit_logs where action = ${action} and user_id = ${me?.id}`,
        )
      )[0]?.count ?? 0;
    // A second tab shares the session; the two must never both spend the same refresh token.
    const second = await context.newPage();
    await second.goto(`${base}/users`);
    await eventually(async () => expect(await second.locator('tbody tr').count()).toBe(10));
    const before = await count('auth.refresh');
    await eventually(
      async () => expect(await count('auth.refresh')).toBeGreaterThanOrEqual(before + 2),
      ACCESS_TTL_SECONDS * 1500,
    );
    expect(await count('auth.refresh_reused')).toBe(0);
    await second.getByRole('button', { name: 'Next' }).click();
    await eventually(async () => expect(await second.locator('.pager').innerText()).toMatch(/Page 2 of/));
    await goTo(page, 'Pool');
    await eventually(async () => expect(await page.locator('.grid a').count()).toBe(POOL));

    // Signing out in one tab signs out the other too, and it says so.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await eventually(async () => expect(await heading(page)).toBe('Sign in'));
    await eventually(async () => expect(await heading(second)).toBe('Sign in'));
    expect(await second.getByRole('status').innerText()).toContain('signed out in another tab');
    await second.close();
    // Nothing of the session is left to resume from.
    await page.reload();
    await eventually(async () => expect(await heading(page)).toBe('Sign in'));
    expect(await count('auth.logout')).toBe(1);
  }, 60_000);

  it('confirms the e-mail and resets a forgotten password from the e-mailed links, then signs in', async () => {
    const email = uniqueEmail('forgetful');
    await api.register(email);
    const visitor = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const tab = await visitor.newPage();

    // The welcome e-mail's link confirms the address, signed in or not.
    const welcome = await harness.mailbox.waitFor(email, 'Welcome');
    const verify = welcome.links.find((url) => url.startsWith(`${base}/verify-email?token=`));
    await tab.goto(verify as string);
    await eventually(async () => expect(await tab.getByRole('status').first().innerText()).toContain('is confirmed'));

    await tab.goto(base);
    await tab.getByRole('link', { name: 'Forgot your password?' }).click();
    await tab.getByLabel('E-mail').fill(email);
    await tab.getByRole('button', { name: 'Send the link' }).click();
    await eventually(async () => expect(await tab.getByRole('status').first().innerText()).toContain(email));

    const mail = await harness.mailbox.waitFor(email, 'Reset');
    const link = mail.links.find((url) => url.startsWith(`${base}/reset-password?token=`));
    expect(link).toBeDefined();
    await tab.goto(link as string);
    await eventually(async () => expect(await heading(tab)).toBe('Choose a new password'));
    await screenshot(tab, 'reset-password');
    await tab.getByLabel('New password').fill('a brand new secret');
    await tab.getByLabel('The same password again').fill('a different one');
    await tab.getByRole('button', { name: 'Save the new password' }).click();
    expect(await tab.locator('.field-error').innerText()).toContain('differ');
    await tab.getByLabel('The same password again').fill('a brand new secret');
    await tab.getByRole('button', { name: 'Save the new password' }).click();
    await eventually(async () =>
      expect(await tab.getByRole('status').first().innerText()).toContain('password is changed'),
    );

    // The link works once.
    await tab.goto(link as string);
    await tab.getByLabel('New password').fill('yet another secret');
    await tab.getByLabel('The same password again').fill('yet another secret');
    await tab.getByRole('button', { name: 'Save the new password' }).click();
    await eventually(async () => expect(await tab.getByRole('alert').innerText()).toMatch(/invalid|expired|used/i));

    await tab.goto(base);
    await tab.getByLabel('E-mail').fill(email);
    await tab.getByLabel('Password').fill('a brand new secret');
    await tab.getByRole('button', { name: 'Sign in' }).click();
    await eventually(async () => expect(await heading(tab)).toBe('Pool'));
    // A user sees no admin controls.
    expect(await tab.getByRole('link', { name: 'Imports' }).count()).toBe(0);
    expect(await tab.getByRole('button', { name: 'Clear all leases' }).count()).toBe(0);
    // Their API keys page offers only the scopes a user's key may hold, and no service accounts.
    await tab.getByRole('link', { name: 'API keys' }).click();
    await eventually(async () => expect(await heading(tab)).toBe('API keys'));
    const scopes = tab.locator('input[name="scopes"]');
    expect(await scopes.evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value))).toEqual([
      'tokens:read',
      'tokens:lease',
      'audit:read',
    ]);
    expect(await tab.getByLabel('Owner').count()).toBe(0);
    expect(await tab.getByRole('button', { name: 'Make the service account' }).count()).toBe(0);
    await visitor.close();
  });

  it('fits a phone screen, with every control labelled and reachable by keyboard', async () => {
    const phone = await browser.newContext({
      viewport: { width: PHONE_WIDTH, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const tab = await phone.newPage();
    await tab.goto(base);
    await tab.getByLabel('E-mail').fill(admin.email);
    await tab.getByLabel('Password').fill(PASSWORD);
    await tab.getByLabel('Password').press('Enter');
    await eventually(async () => expect(await tab.locator('.grid a').count()).toBe(POOL));
    await screenshot(tab, 'pool-phone');

    for (const path of ['/', '/imports', '/users', '/audit', '/webhooks', '/api-keys']) {
      await tab.goto(`${base}${path}`);
      await tab.locator('h1').waitFor();
      await tab.locator('.loading').waitFor({ state: 'detached' });
      // Against the phone's width itself: a mobile browser widens its layout viewport to fit overflow.
      const width = await tab.evaluate(() => document.documentElement.scrollWidth);
      expect(width, path).toBeLessThanOrEqual(PHONE_WIDTH);
      const unlabelled = await tab.evaluate(() =>
        [...document.querySelectorAll('input, select, button')]
          .filter((element) => {
            const control = element as HTMLInputElement;
            const name = control.labels?.[0]?.textContent || control.getAttribute('aria-label') || control.textContent;
            return !name?.trim();
          })
          .map((element) => element.outerHTML),
      );
      expect(unlabelled, path).toEqual([]);
    }
    await screenshot(tab, 'audit-phone');

    // The first Tab reaches the skip link, and the next ones walk the header with a visible focus ring.
    await tab.goto(base);
    await tab.locator('.grid a').first().waitFor();
    await tab.keyboard.press('Tab');
    expect(await tab.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the content');
    await tab.keyboard.press('Tab');
    const outline = await tab.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
    expect(outline).toBe('solid');
    await phone.close();
  });

  it('raised no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
