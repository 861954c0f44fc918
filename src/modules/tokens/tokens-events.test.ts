import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { eventReader } from '../../../test/helpers/event-stream.js';
import { useHarness } from '../../../test/helpers/harness.js';

const file = useHarness({ TOKEN_POOL_SIZE: '5' });
let address: string;

beforeAll(async () => {
  address = await file.harness.app.listen({ port: 0, host: '127.0.0.1' });
});

/** Opens the pool's stream, and waits until it is live when it opened. */
async function follow(accessToken: string, query = '') {
  const response = await fetch(`${address}/api/v1/tokens/events${query}`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  if (response.status !== 200) return { status: response.status };
  const events = eventReader(response.body as ReadableStream<Uint8Array>);
  await events.opened();
  return { status: response.status, events };
}

describe('GET /tokens/events?userId=', () => {
  it("lets a holder hear only its own leases and their ends, and nobody else's", async () => {
    const alice = await file.api.signUp();
    const bob = await file.api.signUp();
    const { status, events } = await follow(alice.accessToken, `?userId=${alice.user.id}`);
    expect(status).toBe(200);
    const bobs = (await file.api.post('/tokens/lease', {}, bob.accessToken)).json();
    const alices = (await file.api.post('/tokens/lease', {}, alice.accessToken)).json();
    await file.api.post(`/tokens/${alices.tokenId}/release`, undefined, alice.accessToken);
    const received = await events?.until((message) => message.event === 'released');
    await events?.close();
    expect(received).toContainEqual({ event: 'leased', data: expect.stringContaining(`"fence":${alices.fence}`) });
    const text = (received ?? []).map((message) => `${message.event}: ${message.data}`).join('\n');
    expect(text).toContain(`"userId":"${alice.user.id}"`);
    // Bob's lease came first: had it passed the filter, it would have arrived before Alice's.
    expect(text).not.toContain(bob.user.id);
    expect(text).not.toContain(bobs.tokenId);
  });

  it("is refused for another holder's events unless the caller is an admin", async () => {
    const alice = await file.api.signUp();
    const bob = await file.api.signUp();
    expect((await follow(alice.accessToken, `?userId=${bob.user.id}`)).status).toBe(403);
    const admin = await signInAdmin(file.harness);
    const watching = await follow(admin.accessToken, `?userId=${bob.user.id}`);
    expect(watching.status).toBe(200);
    await watching.events?.close();
    expect((await follow(alice.accessToken, '?userId=not-a-uuid')).status).toBe(400);
  });
});
