import { describe, expect, it } from 'vitest';
import { checkPoolHistory, type PoolAnswer } from './pool-checker.js';
import type { LeaseRecord } from './pool-history.js';

// The checker is what proves the pool's rules under load, so it is proven first: each rule, broken
// on purpose in a history small enough to read, must be reported, and a sound history must not.
const TTL = 100;
const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';

let nextId = 0;
function lease(tokenId: string, userId: string, leasedAt: number, end?: [number, LeaseRecord['endReason']]) {
  nextId += 1;
  return {
    id: nextId,
    tokenId,
    userId,
    leasedAt,
    expiresAt: leasedAt + TTL,
    endedAt: end ? end[0] : null,
    endReason: end ? end[1] : null,
  } satisfies LeaseRecord;
}

const iso = (micros: number) =>
  `${new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;

function answer(l: LeaseRecord, status = 201, evictedUserId: string | null = null): PoolAnswer {
  return {
    kind: 'lease',
    userId: l.userId,
    status,
    body: {
      tokenId: l.tokenId,
      userId: l.userId,
      leasedAt: iso(l.leasedAt),
      expiresAt: iso(l.expiresAt),
      evictedUserId,
    },
  };
}

const rules = (leases: LeaseRecord[], answers: PoolAnswer[] = []) =>
  checkPoolHistory({ tokenIds: [A, B], leases }, { answers, ttlMicros: TTL }).map((v) => v.rule);

// Instants far from zero, as real ones are.
const T = 1_800_000_000_000_000;

describe('the pool history checker', () => {
  it('accepts a full pool evicting its oldest lease, with every answer accounted for', () => {
    const first = lease(A, 'u1', T, [T + 20, 'evicted']);
    const second = lease(B, 'u2', T + 10);
    const third = lease(A, 'u3', T + 20);
    const answers = [answer(first), answer(second), answer(third, 201, 'u1'), answer(second, 200)];
    expect(rules([first, second, third], answers)).toEqual([]);
  });

  it('reports an eviction while a token was free', () => {
    const first = lease(A, 'u1', T, [T + 20, 'evicted']);
    expect(rules([first, lease(A, 'u3', T + 20)])).toEqual(['no eviction while a token is free']);
  });

  it('accepts an eviction that passed over a free token promised to a waiter, and only that', () => {
    const first = lease(A, 'u1', T, [T + 20, 'evicted']);
    const history = { tokenIds: [A, B], leases: [first, lease(A, 'u3', T + 20), lease(B, 'waiter', T + 30)] };
    const check = (waiters: string[]) =>
      checkPoolHistory(history, { answers: [], ttlMicros: TTL, waiters: new Set(waiters) }).map((v) => v.rule);
    expect(check(['waiter'])).toEqual([]);
    expect(check(['someone else'])).toEqual(['no eviction while a token is free']);
  });

  it('reports an eviction while another token had expired', () => {
    const first = lease(A, 'u1', T + 50, [T + 120, 'evicted']);
    const expired = lease(B, 'u2', T, [T + TTL, 'expired']);
    expect(rules([first, expired, lease(A, 'u3', T + 120)])).toEqual(['no eviction while a token is free']);
  });

  it('reports an eviction of a lease that was not the oldest', () => {
    const first = lease(A, 'u1', T);
    const second = lease(B, 'u2', T + 10, [T + 20, 'evicted']);
    expect(rules([first, second, lease(B, 'u3', T + 20)])).toEqual(['the oldest lease is evicted']);
  });

  it('breaks a tie in leasedAt by token id', () => {
    const onA = lease(A, 'u1', T);
    const onB = lease(B, 'u2', T, [T + 20, 'evicted']);
    expect(rules([onA, onB, lease(B, 'u3', T + 20)])).toEqual(['the oldest lease is evicted']);
  });

  it('reports two leases held at once on one token, and by one holder', () => {
    expect(rules([lease(A, 'u1', T), lease(A, 'u2', T + 10)])).toContain('one open lease per token');
    expect(rules([lease(A, 'u1', T), lease(B, 'u1', T + 10)])).toContain('one open lease per holder');
  });

  it('reports an expiry recorded anywhere but at expiresAt, and a lease of the wrong length', () => {
    expect(rules([lease(A, 'u1', T, [T + 50, 'expired'])])).toEqual(['expiry at expiresAt']);
    expect(rules([lease(A, 'u1', T, [T + TTL, 'released'])])).toEqual(['expiry at expiresAt']);
    expect(rules([{ ...lease(A, 'u1', T), expiresAt: T + TTL + 1 }])).toEqual(['lease length']);
  });

  it('reports answers the history does not back', () => {
    const held = lease(A, 'u1', T);
    expect(rules([held], [answer({ ...held, leasedAt: T + 1, expiresAt: T + 1 + TTL })])).toContain(
      'every lease answered is in the history',
    );
    expect(rules([held], [answer(held), answer(held, 201, 'u9')])).toContain('evictedUserId names who lost the token');
    expect(rules([held], [{ kind: 'lease', userId: 'u2', status: 500, body: undefined }])).toContain(
      'every lease request is served',
    );
    expect(rules([held, lease(B, 'u2', T)], [answer(held)])).toEqual(['every lease made was answered']);
    // A retry answered 200 must be the same lease, not one extended.
    expect(rules([held], [answer(held), answer({ ...held, expiresAt: held.expiresAt + 5 }, 200)])).toEqual([
      'every lease answered is in the history',
    ]);
  });

  it('orders two evictions at one instant by which lease came first', () => {
    // PGlite's clock ticks in milliseconds, so a batch's evictions may share an instant.
    const first = lease(A, 'u1', T, [T + 20, 'evicted']);
    const second = lease(B, 'u2', T + 10, [T + 20, 'evicted']);
    const takesA = lease(A, 'u3', T + 20);
    const takesB = lease(B, 'u4', T + 20);
    expect(rules([first, second, takesA, takesB])).toEqual([]);
    // Had B's eviction come first, A's older lease would have been the one to go.
    expect(rules([first, second, { ...takesB, id: takesA.id - 0.5 }, takesA])).toEqual(['the oldest lease is evicted']);
  });
});
