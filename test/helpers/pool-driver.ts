import type { FastifyInstance } from 'fastify';
import { sendJson } from './api-processes.js';
import type { PoolAnswer } from './pool-checker.js';

type Answer<K extends PoolAnswer['kind']> = Extract<PoolAnswer, { kind: K }>;

/** Drives the pool's routes as an admin, in this process or through real `api` processes. */
export interface PoolDriver {
  lease(userId: string): Promise<Answer<'lease'>>;
  release(tokenId: string): Promise<Answer<'release'>>;
  clear(): Promise<Answer<'clear'>>;
}

type Send = (method: 'POST' | 'DELETE', path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

function driver(send: Send): PoolDriver {
  // A problem document is not an answer's body: only a 2xx carries one the checker reads.
  const ok = <T>(answer: { status: number; body: unknown }) =>
    answer.status >= 200 && answer.status < 300 ? (answer.body as T) : undefined;
  return {
    async lease(userId) {
      const answer = await send('POST', '/tokens/lease', { userId });
      return { kind: 'lease', userId, status: answer.status, body: ok(answer) };
    },
    async release(tokenId) {
      const answer = await send('POST', `/tokens/${tokenId}/release`);
      return { kind: 'release', tokenId, status: answer.status, body: ok(answer) };
    },
    async clear() {
      const answer = await send('DELETE', '/tokens/active');
      return { kind: 'clear', status: answer.status, released: ok<{ released: number }>(answer)?.released };
    },
  };
}

/** Requests through `app.inject`: one process, the batcher and the database as the service runs them. */
export function injectDriver(app: FastifyInstance, accessToken: string): PoolDriver {
  return driver(async (method, path, body) => {
    const response = await app.inject({
      method,
      url: `/api/v1${path}`,
      headers: { authorization: `Bearer ${accessToken}` },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: response.statusCode, body: response.json() };
  });
}

/** Requests over HTTP, spread in turn over several `api` processes. */
export function httpDriver(urls: string[], accessToken: string): PoolDriver {
  let turn = 0;
  return driver((method, path, body) => {
    turn += 1;
    return sendJson(urls[turn % urls.length] as string, accessToken, method, path, body);
  });
}
