import { describe, expect, it } from 'vitest';
import { type ApiProcesses, sendJson, useApiProcesses } from './helpers/api-processes.js';
import { testEnvironment } from './helpers/environment.js';
import { useHarness } from './helpers/harness.js';
import type { ServiceProcess } from './helpers/processes.js';

describe.runIf(testEnvironment.databaseUrl && testEnvironment.redisUrl)('API keys across api processes', () => {
  const block = useHarness();
  const running: ApiProcesses = useApiProcesses(block);

  it('a key revoked in one process is refused by the other at once', async () => {
    const [first, second] = running.apis as [ServiceProcess, ServiceProcess];
    const made = await sendJson<{ id: string; key: string }>(first.url, running.adminToken, 'POST', '/api-keys', {
      name: 'revoked across processes',
      scopes: ['tokens:read'],
    });
    expect(made.status).toBe(201);
    // Both processes have served the key, so any cache of it would be warm.
    for (const api of [first, second])
      expect((await sendJson(api.url, made.body.key, 'GET', '/tokens')).status).toBe(200);

    const revoked = await fetch(`${first.url}/api/v1/api-keys/${made.body.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${running.adminToken}` },
    });
    expect(revoked.status).toBe(204);
    const refused = await sendJson<{ code: string }>(second.url, made.body.key, 'GET', '/tokens');
    expect(refused).toMatchObject({ status: 401, body: { code: 'API_KEY_REVOKED' } });
  });
});
