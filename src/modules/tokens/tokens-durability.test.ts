import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { testEnvironment } from '../../../test/helpers/environment.js';
import { useHarness } from '../../../test/helpers/harness.js';
import type { Database } from '../../infra/db/database.js';

const file = useHarness({ TOKEN_POOL_SIZE: '3' });
let admin: { accessToken: string };
let restore: (() => void) | undefined;

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
});
afterEach(() => restore?.());

type Query = Database['query'];

/** Runs every hot statement through `around` until the test ends. */
function aroundQueries(
  database: Database,
  around: (statement: Parameters<Query>[0], run: () => Promise<unknown[]>) => Promise<unknown[]>,
): void {
  const query = database.query;
  database.query = async function <T>(this: Database, statement: Parameters<Query>[0], values: unknown[]) {
    return (await around(statement, () => query.call(this, statement, values))) as T[];
  };
  restore = () => {
    database.query = query;
  };
}

/** The hot statements the process ran, by name, each once it came back. */
function recordStatements(database: Database): string[] {
  const done: string[] = [];
  aroundQueries(database, async (statement, run) => {
    const rows = await run();
    done.push(statement.name);
    return rows;
  });
  return done;
}

describe('durability of a lease', () => {
  // On PostgreSQL the lease commits without waiting for the disk, so the pool lock is not held
  // through the flush; the answer waits for a flush that began after that commit. PGlite commits
  // each batch to disk before answering.
  it('answers a lease, a new one or the same again, only once it is on disk', async () => {
    const { database } = file.harness.runtime;
    const done = recordStatements(database);
    const holder = crypto.randomUUID();
    for (const expected of [201, 200]) {
      const answer = await file.api.post('/tokens/lease', { userId: holder }, admin.accessToken);
      expect(answer.statusCode).toBe(expected);
      done.push('answered');
    }
    const lease = database.kind === 'postgres' ? ['lease_tokens_unflushed', 'flush_wal'] : ['lease_tokens'];
    expect(done.filter((name) => name !== 'find_live_sessions')).toEqual([...lease, 'answered', ...lease, 'answered']);
  });

  // PostgreSQL only: on PGlite a lease commits to disk before it is answered, with no flush of its own.
  it.runIf(testEnvironment.databaseUrl)(
    'answers 503 when the flush after a lease fails, and the same lease when asked again',
    async () => {
      const { database } = file.harness.runtime;
      let failed = false;
      aroundQueries(database, async (statement, run) => {
        if (statement.name === 'flush_wal' && !failed) {
          failed = true;
          throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
        }
        return run();
      });
      const userId = crypto.randomUUID();
      const first = await file.api.post('/tokens/lease', { userId }, admin.accessToken);
      expect(first.statusCode).toBe(503);
      expect(failed).toBe(true);
      const again = await file.api.post('/tokens/lease', { userId }, admin.accessToken);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ userId });
    },
  );
});
