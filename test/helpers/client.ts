import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { ERROR_CODES } from '../../src/infra/http/errors.js';

let counter = 0;

/** A unique e-mail per call, so tests never collide. */
export function uniqueEmail(label = 'user'): string {
  counter += 1;
  return `${label}-${process.pid}-${counter}-${Date.now()}@example.com`;
}

export const PASSWORD = 'correct horse battery';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

/** Thin helpers over `app.inject` for the calls nearly every test makes. */
export function client(app: FastifyInstance) {
  const authorization = (token?: string) => (token ? { authorization: `Bearer ${token}` } : {});
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, options: { body?: unknown; token?: string } = {}) =>
    app.inject({
      method,
      url: `/api/v1${url}`,
      ...(options.body === undefined ? {} : { payload: options.body as object }),
      headers: authorization(options.token),
    });

  return {
    get: (url: string, token?: string) => call('GET', url, token ? { token } : {}),
    post: (url: string, body?: unknown, token?: string) => call('POST', url, { body, ...(token ? { token } : {}) }),
    delete: (url: string, token?: string) => call('DELETE', url, token ? { token } : {}),
    /** POSTs `payload` as it is, labelled `contentType`: for the bodies no well-behaved client sends. */
    postRaw: (url: string, contentType: string, payload: string, token?: string) =>
      app.inject({
        method: 'POST',
        url: `/api/v1${url}`,
        headers: { 'content-type': contentType, ...authorization(token) },
        payload,
      }),

    async register(email = uniqueEmail(), password = PASSWORD, name = 'Test User') {
      const response = await call('POST', '/auth/register', { body: { name, email, password } });
      expect(response.statusCode, response.body).toBe(201);
      return response.json().user as { id: string; email: string };
    },

    async login(email: string, password = PASSWORD): Promise<TokenPair> {
      const response = await call('POST', '/auth/login', { body: { email, password } });
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    },

    /** Registers a new user and signs in. */
    async signUp(email = uniqueEmail()) {
      const user = await this.register(email);
      return { user, email, ...(await this.login(email)) };
    },
  };
}

export function expectProblem(response: LightMyRequestResponse, status: number, code?: string) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = response.json();
  expect(problem).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
  expect(ERROR_CODES).toContain(problem.code);
  if (code) expect(problem.code).toBe(code);
  expect(response.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
  return problem as { code: string; errors?: Array<{ field: string; message: string }> };
}
