import { describe, expect, it } from 'vitest';
import { createAccessCredentials } from './access-credentials.js';

const claims = {
  userId: '6d0f8a53-6a43-4a4c-9f0e-0d5a3f0b6c11',
  role: 'user' as const,
  sessionId: 'f3f1f2a0-1111-4222-8333-944455556666',
};

describe('access tokens', () => {
  it('round-trip their claims', async () => {
    const tokens = createAccessCredentials('a secret for tests', 60);
    expect(await tokens.verify(await tokens.issue(claims))).toEqual(claims);
  });

  it('are refused under another key, when tampered with, or when expired', async () => {
    const tokens = createAccessCredentials('a secret for tests', 60);
    const token = await tokens.issue(claims);
    expect(await createAccessCredentials('another secret', 60).verify(token)).toBeUndefined();

    const parts = token.split('.');
    const cipher = Buffer.from(parts[3] as string, 'base64url');
    cipher[0] = (cipher[0] as number) ^ 1;
    parts[3] = cipher.toString('base64url');
    expect(await tokens.verify(parts.join('.'))).toBeUndefined();

    const expired = await createAccessCredentials('a secret for tests', -10).issue(claims);
    expect(await tokens.verify(expired)).toBeUndefined();
  });
});
