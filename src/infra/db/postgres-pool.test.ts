import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnvironment } from '../../../test/helpers/environment.js';
import { createDatabase, type Database } from './database.js';
import { databaseUnavailableCause } from './unavailable.js';

const { databaseUrl } = testEnvironment;

// Only reads (select 1, pg_sleep), so the server's own database serves; no test database needed.
describe.runIf(databaseUrl)('the PostgreSQL pool', () => {
  let database: Database;

  beforeAll(async () => {
    database = await createDatabase({
      url: databaseUrl,
      dataDir: '',
      poolSize: 1,
      connectTimeoutMs: 300,
      queryTimeoutMs: 300,
    });
  });
  afterAll(() => database.close());

  it('keeps a transaction on one connection (drizzle takes the wrapped pool for a pool)', async () => {
    const now = (tx: Parameters<Parameters<Database['db']['transaction']>[0]>[0]) =>
      tx
        .execute(sql`select now()::text as now`)
        .then((result) => (result as unknown as { rows: [{ now: string }] }).rows[0].now);
    await database.db.transaction(async (tx) => {
      const first = await now(tx);
      await new Promise((resolve) => setTimeout(resolve, 20));
      // now() is when the transaction began: the same in every statement of one transaction.
      expect(await now(tx)).toBe(first);
    });
  });

  it('cancels a statement at the query timeout, and the error reads as unavailable', async () => {
    const error = await database.db.execute(sql`select pg_sleep(5)`).catch((e: unknown) => e);
    expect(databaseUnavailableCause(error)).toMatchObject({ code: '57014' });
    await expect(database.ping()).resolves.toBeUndefined();
  });

  it('bounds the wait for a connection from a full pool', async () => {
    let begun!: () => void;
    let finish!: () => void;
    const started = new Promise<void>((resolve) => {
      begun = resolve;
    });
    const held = database.db.transaction(async () => {
      begun();
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
    });
    await started;
    const before = performance.now();
    const error = await database.ping().catch((e: unknown) => e);
    expect(performance.now() - before).toBeLessThan(1000);
    expect(databaseUnavailableCause(error)?.message).toBe('timeout exceeded when trying to connect');
    finish();
    await held;
  });

  it('leaves startup work free of the query timeout', async () => {
    await expect(database.withoutTimeouts((db) => db.execute(sql`select pg_sleep(0.5)`))).resolves.toBeDefined();
  });
});
