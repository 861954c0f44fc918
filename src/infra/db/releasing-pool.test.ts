import type pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { ReleasingPool } from './releasing-pool.js';

function fakePool(answers: Array<() => Promise<unknown>>) {
  const client = {
    query: vi.fn(() => (answers.shift() as () => Promise<unknown>)()),
    release: vi.fn(),
  };
  return { client, pool: new ReleasingPool({ connect: async () => client } as unknown as pg.Pool) };
}

describe('the pool drizzle sees', () => {
  it('gives back, with the error, a connection whose first statement (BEGIN) failed', async () => {
    const timeout = new Error('Query read timeout');
    const { client, pool } = fakePool([() => Promise.reject(timeout)]);
    const connection = await pool.connect();
    await expect(connection.query('begin')).rejects.toBe(timeout);
    expect(client.release).toHaveBeenCalledWith(timeout);
  });

  it('leaves the release to drizzle once the transaction has begun', async () => {
    const failure = new Error('duplicate key');
    const { client, pool } = fakePool([() => Promise.resolve({ rows: [] }), () => Promise.reject(failure)]);
    const connection = await pool.connect();
    await connection.query('begin');
    await expect(connection.query('insert …')).rejects.toBe(failure);
    expect(client.release).not.toHaveBeenCalled();
    connection.release();
    expect(client.release).toHaveBeenCalledWith(undefined);
  });
});
