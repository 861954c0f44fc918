import { describe, expect, it, vi } from 'vitest';
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

describe('a verified access token', () => {
  it('is remembered only until it expires', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const tokens = createAccessCredentials('a secret for tests', 2);
      const token = await tokens.issue(claims);
      expect(await tokens.verify(token)).toEqual(claims);
      vi.setSystemTime(Date.now() + 2_500);
      expect(await tokens.verify(token)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('hands out a copy nobody can change for the next caller', async () => {
    const tokens = createAccessCredentials('a secret for tests', 60);
    const token = await tokens.issue(claims);
    const first = await tokens.verify(token);
    if (first) first.role = 'admin';
    expect(await tokens.verify(token)).toEqual(claims);
  });
});
