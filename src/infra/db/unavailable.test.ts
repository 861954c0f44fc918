import { describe, expect, it } from 'vitest';
import { databaseUnavailableCause } from './unavailable.js';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('databaseUnavailableCause', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a reset connection', withCode('ECONNRESET')],
    ['a connect timeout', new Error('Connection terminated due to connection timeout')],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    ['a full pool past its bound', new Error('timeout exceeded when trying to connect')],
    ["the client's query timeout", new Error('Query read timeout')],
    ['a broken client', new Error('Client has encountered a connection error and is not queryable')],
    ['a connection exception (class 08)', withCode('08006')],
    ['an administrator shutdown', withCode('57P01')],
    ['a server starting up', withCode('57P03')],
    ['too many connections', withCode('53300')],
    ['the statement timeout', withCode('57014', 'canceling statement due to statement timeout')],
  ])('recognises %s', (_, error) => {
    expect(databaseUnavailableCause(error)).toBe(error);
  });

  it('looks through the wrappers drizzle and failed multi-address connects put around it', () => {
    const cause = withCode('ECONNREFUSED');
    const wrapped = new Error('Failed query: select 1\nparams: secret', { cause });
    expect(databaseUnavailableCause(wrapped)).toBe(cause);
    const aggregate = new AggregateError([withCode('EADDRNOTAVAIL'), cause]);
    expect(databaseUnavailableCause(aggregate)).toBe(cause);
  });

  it.each([
    ['a unique violation', withCode('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error', withCode('42601')],
    ['a plain error', new Error('boom')],
    ['something not an error', 'ECONNREFUSED'],
  ])('leaves %s alone', (_, error) => {
    expect(databaseUnavailableCause(error)).toBeUndefined();
    expect(databaseUnavailableCause(new Error('Failed query', { cause: error }))).toBeUndefined();
  });
});
