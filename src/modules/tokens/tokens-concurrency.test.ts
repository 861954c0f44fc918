import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { type AnsweredLease, expectPoolInvariants } from '../../../test/helpers/pool-invariants.js';

// Invariants under concurrent leases and clears in one process; test/tokens-processes.test.ts races
// leases across two api processes.
const POOL = 10;
const file = useHarness({ TOKEN_POOL_SIZE: String(POOL) });
let admin: { accessToken: string };

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
});

function leaseFor(userId: string) {
  return file.api.post('/tokens/lease', { userId }, admin.accessToken);
}

describe('under concurrency', () => {
  it('answers every one of 300 simultaneous leases on a pool of 10 with a lease, and keeps the invariants', async () => {
    const answers = await Promise.all(Array.from({ length: 300 }, () => leaseFor(crypto.randomUUID())));
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 201));
    const leases: AnsweredLease[] = answers.map((a) => a.json());
    await expectPoolInvariants(file.harness.runtime.database.db, POOL, leases);
    const meta = (await file.api.get('/tokens', admin.accessToken)).json().meta;
    expect(meta).toEqual({ total: POOL, active: POOL, available: 0, waiting: 0 });
  });

  it('gives one holder asking 30 times at once exactly one lease', async () => {
    const holder = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 30 }, () => leaseFor(holder)));
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(29);
    expect(new Set(answers.map((a) => a.json().tokenId)).size).toBe(1);
    await expectPoolInvariants(file.harness.runtime.database.db, POOL);
  });

  it('keeps the invariants when a clear races a storm of leases', async () => {
    const leases = Array.from({ length: 100 }, (_, i) =>
      i === 50 ? file.api.delete('/tokens/active', admin.accessToken) : leaseFor(crypto.randomUUID()),
    );
    const answers = await Promise.all(leases);
    const [clear] = answers.splice(50, 1);
    expect(clear?.statusCode).toBe(200);
    expect(answers.every((a) => a.statusCode === 201)).toBe(true);
    await expectPoolInvariants(
      file.harness.runtime.database.db,
      POOL,
      answers.map((a) => a.json()),
    );
  });
});
