import { afterAll, beforeAll } from 'vitest';
import { signInAdmin } from './admin.js';
import type { HarnessContext } from './harness.js';
import { type ServiceProcess, startProcess } from './processes.js';

export interface ApiProcesses {
  apis: ServiceProcess[];
  /** An admin's access token, good in every process. */
  adminToken: string;
}

/**
 * Two `api` processes on the block's harness (same database, Redis prefix and mailbox), started
 * after it and killed before it closes; filled in before the block's first test.
 */
export function useApiProcesses(block: HarnessContext): ApiProcesses {
  const context = { apis: [] } as unknown as ApiProcesses;
  beforeAll(async () => {
    context.adminToken = (await signInAdmin(block.harness)).accessToken;
    const env = { ...block.harness.env, LOG_LEVEL: 'warn' };
    context.apis = await Promise.all([startProcess('api', env), startProcess('api', env)]);
  });
  afterAll(async () => {
    for (const api of context.apis) await api.stop('SIGKILL');
  });
  return context;
}

/**
 * One JSON request to a service process over HTTP, as `accessToken` (anonymous when undefined);
 * answers the status and the body, typed as the caller expects it (a problem document when the
 * status is not 2xx).
 */
export async function sendJson<T = unknown>(
  baseUrl: string,
  accessToken: string | undefined,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: {
      ...(accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}
