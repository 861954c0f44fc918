import type pg from 'pg';

type Query = (...args: unknown[]) => Promise<unknown>;

/**
 * The pool as drizzle sees it (drizzle knows a pool by its class name). drizzle's `transaction()`
 * sends BEGIN before its try/finally, so when BEGIN fails, as it does when PostgreSQL stops
 * answering, the connection is never released and the pool loses it for good; after a few
 * outages every request would wait for a connection that never comes back. Here a connection
 * whose BEGIN failed goes back to the pool with the error, which ends it.
 */
export class ReleasingPool {
  constructor(private readonly pool: pg.Pool) {}

  query(...args: unknown[]): Promise<unknown> {
    return (this.pool.query as Query).apply(this.pool, args);
  }

  async connect(): Promise<{ query: Query; release: (error?: Error) => void }> {
    const client = await this.pool.connect();
    const query = (client.query as Query).bind(client);
    let begun = false;
    return {
      async query(...args) {
        if (begun) return query(...args);
        begun = true;
        try {
          return await query(...args);
        } catch (error) {
          client.release(error instanceof Error ? error : new Error(String(error)));
          throw error;
        }
      },
      release: (error) => client.release(error),
    };
  }
}
