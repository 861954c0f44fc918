import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { useHarness } from '../../../test/helpers/harness.js';

const file = useHarness({ TOKEN_POOL_SIZE: '5' });
let address: string;

beforeAll(async () => {
  address = await file.harness.app.listen({ port: 0, host: '127.0.0.1' });
});

/** Opens the pool's stream; `read` collects what arrives until `until` shows up in it. */
async function follow(accessToken: string, query = '') {
  const abort = new AbortController();
  const response = await fetch(`${address}/api/v1/tokens/events${query}`, {
    headers: { authorization: `Bearer ${accessToken}` },
    signal: abort.signal,
  });
  if (response.status !== 200) return { status: response.status, read: async () => '', close: () => {} };
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let received = decoder.decode((await reader.read()).value);
  return {
    status: response.status,
    async read(until: string) {
      while (!received.includes(until)) {
        const { value, done } = await reader.read();
        if (done) break;
        received += decoder.decode(value);
      }
      return received;
    },
    close: () => abort.abort(),
  };
}

describe('GET /tokens/events?userId=', () => {
  it("lets a holder hear only its own leases and their ends, and nobody else's", async () => {
    const alice = await file.api.signUp();
    const bob = await file.api.signUp();
    const stream = await follow(alice.accessToken, `?userId=${alice.user.id}`);
    expect(stream.status).toBe(200);
    const bobs = (await file.api.post('/tokens/lease', {}, bob.accessToken)).json();
    const alices = (await file.api.post('/tokens/lease', {}, alice.accessToken)).json();
    await file.api.post(`/tokens/${alices.tokenId}/release`, undefined, alice.accessToken);
    const received = await stream.read('event: released');
    stream.close();
    expect(received).toMatch(new RegExp(`event: leased\\ndata: .*"fence":${alices.fence}`));
    expect(received).toContain(`"userId":"${alice.user.id}"`);
    // Bob's lease came first: had it passed the filter, it would have arrived before Alice's.
    expect(received).not.toContain(bob.user.id);
    expect(received).not.toContain(bobs.tokenId);
  });

  it("is refused for another holder's events unless the caller is an admin", async () => {
    const alice = await file.api.signUp();
    const bob = await file.api.signUp();
    expect((await follow(alice.accessToken, `?userId=${bob.user.id}`)).status).toBe(403);
    const admin = await signInAdmin(file.harness);
    const watching = await follow(admin.accessToken, `?userId=${bob.user.id}`);
    expect(watching.status).toBe(200);
    watching.close();
    expect((await follow(alice.accessToken, '?userId=not-a-uuid')).status).toBe(400);
  });
});
