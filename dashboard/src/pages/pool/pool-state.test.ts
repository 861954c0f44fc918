import { describe, expect, it } from 'vitest';
import type { Token, TokenEvent } from '../../api/types.js';
import { applyTokenEvent, countPool, poolFromList } from './pool-state.js';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const ALICE = '00000000-0000-4000-8000-0000000000a1';
const BOB = '00000000-0000-4000-8000-0000000000b0';

const NO_LEASE = { userId: null, leasedAt: null, expiresAt: null, fence: null, metadata: null };
const available = (id: string): Token => ({ id, status: 'available', ...NO_LEASE });
const held = (id: string, userId: string, leasedAt: string): Token => ({
  id,
  status: 'active',
  userId,
  leasedAt,
  expiresAt: '2026-11-21T10:02:00.000000Z',
  fence: 7,
  metadata: null,
});
/** Alice's lease of A at 10:00: news to a free A, older than the lease Bob holds in the second test. */
const ALICE_LEASES_A: TokenEvent = {
  type: 'leased',
  tokenId: A,
  userId: ALICE,
  leasedAt: '2026-11-21T10:00:00.000000Z',
  expiresAt: '2026-11-21T10:02:00.000000Z',
  fence: 3,
  metadata: { job: 'report' },
};
const pool = (...tokens: Token[]) =>
  poolFromList({ data: tokens, meta: { total: tokens.length, active: 0, available: 0, waiting: 0 } });

describe('the pool page applying events', () => {
  it('marks a leased token held and a released one free', () => {
    let state = pool(available(A), available(B));
    state = applyTokenEvent(state, ALICE_LEASES_A);
    expect(state.tokens[0]).toMatchObject({ status: 'active', userId: ALICE, fence: 3, metadata: { job: 'report' } });
    expect(countPool(state)).toEqual({ active: 1, available: 1 });
    state = applyTokenEvent(state, { type: 'released', tokenId: A, userId: ALICE, endedAt: '2026-11-21T10:01:00Z' });
    expect(state.tokens[0]).toEqual(available(A));
  });

  it('ignores an end of a lease it no longer shows, and a lease older than the one it shows', () => {
    const now = pool(held(A, BOB, '2026-11-21T10:00:05.000000Z'));
    expect(applyTokenEvent(now, { type: 'expired', tokenId: A, userId: ALICE, endedAt: 'x' })).toBe(now);
    const older = applyTokenEvent(now, ALICE_LEASES_A);
    expect(older).toBe(now);
  });

  it('frees exactly the cleared tokens, and hands an evicted token over', () => {
    let state = pool(held(A, ALICE, '2026-11-21T10:00:00.000000Z'), held(B, BOB, '2026-11-21T10:00:01.000000Z'));
    state = applyTokenEvent(state, { type: 'evicted', tokenId: A, userId: ALICE, byUserId: BOB });
    expect(state.tokens[0]?.status).toBe('available');
    state = applyTokenEvent(state, { type: 'cleared', released: 1, tokenIds: [B] });
    expect(countPool(state)).toEqual({ active: 0, available: 2 });
  });

  it('follows the line of waiting requests', () => {
    const state = applyTokenEvent(pool(available(A)), { type: 'waiting', waiting: 3 });
    expect(state.waiting).toBe(3);
    expect(applyTokenEvent(state, { type: 'waiting', waiting: 0 }).waiting).toBe(0);
  });
});
