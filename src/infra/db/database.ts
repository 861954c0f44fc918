import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type SQL, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { ReleasingPool } from './releasing-pool.js';
import * as schema from './schema.js';
import { applySqlFunctions } from './sql-functions.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Anything a repository function can run a statement on: the database or an open transaction. */
export type Executor = Db | Tx;

/** A hot statement: written once, named, and prepared once per connection on PostgreSQL. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Db;
  /**
   * Runs a named statement outside any transaction. For the hot paths only: a prepared statement
   * skips parsing and planning, and skipping the query builder saves the API process's CPU.
   */
  query<T>(statement: Statement, values: unknown[]): Promise<T[]>;
  /**
   * Runs the numbered migrations that have not run yet, then the SQL function sources that changed
   * (sql-functions.ts), and answers how many migrations it ran; safe to call
   * from many processes at once.
   */
  migrate(): Promise<number>;
  /**
   * Runs startup work (making the token pool) on a connection of its own, free of the query
   * timeout: it may rightly take longer than any request should, or wait for another process's.
   */
  withoutTimeouts<T>(work: (db: Db) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Runs a raw statement and returns its rows, typed by the caller who wrote the SQL. */
export async function queryRows<T>(executor: Executor, query: SQL): Promise<T[]> {
  const result = (await executor.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/**
 * A PostgreSQL array literal, so one parameter carries a whole column (`= any($1::uuid[])`,
 * `unnest($1::text[])`): the same on `pg` and PGlite. Every element is quoted, with quotes and
 * backslashes escaped; null stays NULL.
 */
export function pgArray(values: ReadonlyArray<string | null>): string {
  const items = values.map((value) => (value === null ? 'NULL' : `"${escapeArrayElement(value)}"`));
  return `{${items.join(',')}}`;
}

const ARRAY_SPECIAL = /["\\]/;
const ARRAY_SPECIALS = /(["\\])/g;

/** A value's text inside the double quotes of an array element. */
export function escapeArrayElement(value: string): string {
  // Most values hold neither a quote nor a backslash: testing is cheaper than replacing (imports
  // write a million of them).
  return ARRAY_SPECIAL.test(value) ? value.replace(ARRAY_SPECIALS, '\\$1') : value;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; when absent, PGlite runs embedded under `dataDir`. */
  url?: string | undefined;
  dataDir: string;
  /** @defaultValue 20 */
  poolSize?: number;
  /** How long to wait for a connection: a new one, or a free one from a full pool. @defaultValue 2000 */
  connectTimeoutMs?: number;
  /** How long one statement may run before PostgreSQL cancels it. @defaultValue 5000 */
  queryTimeoutMs?: number;
  /** How long an unused pooled connection stays open. @defaultValue 10000 */
  idleTimeoutMs?: number;
}

type PostgresOptions = Required<Omit<DatabaseOptions, 'url' | 'dataDir'>>;

const migrationsFolder = new URL('../../../migrations', import.meta.url).pathname;

// Any constant works: it only has to be the same in every process that migrates this database.
const MIGRATION_LOCK_ID = 7_405_122_911;

// drizzle's migrator says nothing of what it did; it keeps one row per migration run in this table.
async function countMigrations(db: Db): Promise<number> {
  const [table] = await queryRows<{ present: boolean }>(
    db,
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  );
  if (!table?.present) return 0;
  const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  return row?.n ?? 0;
}

export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  if (!options.url) return createPglite(join(options.dataDir, 'pg'));
  return createPostgres(options.url, {
    poolSize: options.poolSize ?? 20,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    queryTimeoutMs: options.queryTimeoutMs ?? 5000,
    idleTimeoutMs: options.idleTimeoutMs ?? 10_000,
  });
}

// When PostgreSQL can answer, its own statement timeout should win: a cancelled statement leaves
// the connection usable. The client's timeout is for a server that cannot answer at all.
const CLIENT_TIMEOUT_GRACE_MS = 500;

// Each adapter's driver is loaded only when it is used: a worker on PostgreSQL never pays for
// PGlite's WebAssembly build, and the embedded service never loads pg.
async function createPostgres(url: string, options: PostgresOptions): Promise<Database> {
  const { default: pg } = await import('pg');
  const { drizzle: drizzleNodePg } = await import('drizzle-orm/node-postgres');
  const connection = { connectionString: url, connectionTimeoutMillis: options.connectTimeoutMs, keepAlive: true };
  const pool = new pg.Pool({
    ...connection,
    max: options.poolSize,
    idleTimeoutMillis: options.idleTimeoutMs,
    statement_timeout: options.queryTimeoutMs,
    query_timeout: options.queryTimeoutMs + CLIENT_TIMEOUT_GRACE_MS,
  });
  // An idle client that loses its connection emits 'error'; the pool replaces it, so only note it.
  pool.on('error', () => {});
  pool.on('release', (error, client) => {
    // After a client-side timeout the abandoned statement still runs, or is stuck, on the
    // connection, and its transaction may stay open: drizzle's ROLLBACK times out behind it, then
    // drizzle releases the connection as if nothing happened. It must serve no one else.
    const settled = (client as unknown as { readyForQuery: boolean }).readyForQuery;
    if (!error && (!settled || client.getTransactionStatus() !== 'I')) void client.end();
  });
  const db = drizzleNodePg({ client: new ReleasingPool(pool) as unknown as typeof pool, schema }) as unknown as Db;

  /** A connection outside the pool, without its timeouts, for work that may take long. */
  async function withOwnClient<T>(work: (client: InstanceType<typeof pg.Client>) => Promise<T>): Promise<T> {
    const client = new pg.Client(connection);
    client.on('error', () => {});
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  return {
    kind: 'postgres',
    db,
    async query<T>(statement: Statement, values: unknown[]) {
      const result = await pool.query({ name: statement.name, text: statement.text, values });
      return result.rows as T[];
    },
    async migrate() {
      const { migrate } = await import('drizzle-orm/node-postgres/migrator');
      return withOwnClient(async (client) => {
        const locked = drizzleNodePg({ client, schema });
        try {
          // Several processes may start at once; the advisory lock makes them migrate one after another.
          await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
          const before = await countMigrations(locked as unknown as Db);
          await migrate(locked, { migrationsFolder });
          await applySqlFunctions(locked as unknown as Db);
          return (await countMigrations(locked as unknown as Db)) - before;
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
        }
      });
    },
    withoutTimeouts(work) {
      return withOwnClient((client) => work(drizzleNodePg({ client, schema }) as unknown as Db));
    },
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await pool.end();
    },
  };
}

async function createPglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
  await mkdir(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  const db = drizzlePglite({ client, schema });
  return {
    kind: 'pglite',
    db: db as unknown as Db,
    async query<T>(statement: Statement, values: unknown[]) {
      return (await client.query<T>(statement.text, values)).rows;
    },
    async migrate() {
      const { migrate } = await import('drizzle-orm/pglite/migrator');
      const before = await countMigrations(db as unknown as Db);
      await migrate(db, { migrationsFolder });
      await applySqlFunctions(db as unknown as Db);
      return (await countMigrations(db as unknown as Db)) - before;
    },
    withoutTimeouts(work) {
      return work(db as unknown as Db);
    },
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      await client.close();
    },
  };
}
