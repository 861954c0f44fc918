import type { Registry } from 'prom-client';
import type { Config } from '../../config.js';
import { createBatcher } from '../../infra/concurrency/batcher.js';
import type { Database } from '../../infra/db/database.js';
import type { EventBus } from '../../infra/events/event-bus.js';
import { AppError, errors } from '../../infra/http/errors.js';
import type { Principal } from '../../infra/http/principal.js';
import type { Logger } from '../../infra/logger.js';
import { insertAuditEntry } from '../audit/audit.sql.js';
import type { AuditOrigin } from '../audit/audit-origin.js';
import { createLeaseQueue, type LeaseQueue } from './lease-queue.js';
import { endActiveLeases, freeTokens, lockActiveTokens, lockToken } from './sql/end-leases.js';
import { expireDueLeases, type LeaseEnd } from './sql/expire-due-leases.js';
import {
  flushWal,
  type LeaseMetadata,
  type LeaseRefusal,
  type LeaseRequest,
  type LeaseResult,
  leasesCommitUnflushed,
  leaseTokens,
  lockPool,
} from './sql/lease-tokens.js';
import { publishTokenEvents, type TokenEvent } from './token-events.js';
import { tokenCounters } from './tokens.metrics.js';
import { DEFAULT_WAIT_SECONDS } from './tokens.schemas.js';

/** What a client asked for in `POST /tokens/lease`. */
export interface LeaseAsked {
  userId?: string;
  onFull?: 'evict' | 'fail' | 'wait';
  waitSeconds?: number;
  metadata?: LeaseMetadata;
}

/** A final answer without a token: the pool is full for this request, or it waits in line. */
type FullPool = LeaseRefusal & { retryAfter: number; waiterId: null };
type InLine = LeaseRefusal & { waiterId: number };
type FinalAnswer = LeaseResult | FullPool | InLine;

/** What the pool is built from. */
export interface TokensDeps {
  readonly database: Database;
  readonly config: Pick<Config, 'TOKEN_TTL_SECONDS'>;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly metrics: Registry;
}

function expiredEvents(ends: LeaseEnd[]): TokenEvent[] {
  return ends.map((end) => ({ type: 'expired', ...end }));
}

export function createTokensService({ database, config, events, logger, metrics }: TokensDeps) {
  const { db } = database;
  const { leases, leaseEnds } = tokenCounters(metrics);
  const countExpired = (ends: LeaseEnd[]) => {
    if (ends.length > 0) leaseEnds.inc({ reason: 'expired' }, ends.length);
  };
  // Events go out after the commit; a failure to publish is logged, never turned into an error
  // for a request whose change has already happened.
  const publish = (list: TokenEvent[]) =>
    publishTokenEvents(events, list).catch((error: unknown) =>
      logger.warn({ err: error }, 'could not publish token events'),
    );

  const ttl = config.TOKEN_TTL_SECONDS;
  // Whether the last batch found the pool full. Only a guess that saves a round trip: a batch that
  // starts EXCLUSIVE when it needs not just waits its turn; one that starts SHARED when it should
  // not just hands back what it cannot serve.
  let poolLikelyFull = false;

  // A lease; a full pool for a request that would not evict; or a place in line for one that waits.
  async function leaseBatch(items: LeaseRequest[]): Promise<FinalAnswer[]> {
    const answers = await leaseTokens(database, ttl, items, poolLikelyFull);
    const deferred = items.flatMap((item, index) => {
      const answer = answers[index];
      return answer?.tokenId === null && answer.retryAfter === null && answer.waiterId === null
        ? [{ item, index }]
        : [];
    });
    if (deferred.length === 0) {
      poolLikelyFull &&= answers.some((answer) => answer.tokenId === null || answer.evictedUserId !== null);
      return answers as FinalAnswer[];
    }
    poolLikelyFull = true;
    const retried = await leaseTokens(
      database,
      ttl,
      deferred.map(({ item }) => item),
      true,
    );
    for (const [i, { index }] of deferred.entries()) answers[index] = retried[i] as FinalAnswer;
    return answers as FinalAnswer[];
  }

  // Concurrent leases share one database call and one transaction (see batcher.ts), one call at a
  // time: a second call in flight would only wait for the first one's pool lock (evicting batches
  // hold the pool exclusively), while the requests it took could have joined the next batch. One at
  // a time, batches grow and their number falls: 1.1x to 1.3x the leases a second, at pools of 100
  // and 100,000, in alternating runs against four in flight (see docs/benchmarks.md).
  const leaseBatched = createBatcher(leaseBatch, { maxInFlight: 1 });
  // A lease is answered once it is on disk: where it commits without waiting (see leaseTokens), after
  // a flush that began after its batch committed. One flush at a time serves every answer waiting
  // when it starts; meanwhile the next batch runs. If the flush fails, so do the answers that waited
  // for it (each gets its error, none tries again alone), though their leases may stand: asked
  // again, a holder gets the same one.
  const flush = leasesCommitUnflushed(database)
    ? createBatcher(
        async (waiting: null[]) => {
          const failure = await flushWal(database).then(
            () => undefined,
            (error: unknown) => error,
          );
          return waiting.map(() => failure);
        },
        { maxInFlight: 1, maxBatch: Number.POSITIVE_INFINITY },
      )
    : undefined;
  async function flushed(): Promise<void> {
    if (!flush) return;
    const failure = await flush(null);
    if (failure !== undefined) throw failure;
  }

  /** Ends the caller's lease (or, for an admin, anyone's) as released. */
  async function release(caller: Principal, tokenId: string, context: AuditOrigin) {
    const ended = await db.transaction(async (tx) => {
      await lockPool(tx, false);
      const token = await lockToken(tx, tokenId);
      if (!token) throw errors.notFound('The token');
      if (!token.active || !token.leaseId) throw errors.tokenNotActive(tokenId);
      if (token.holderId !== caller.userId && caller.role !== 'admin') {
        throw errors.forbidden('Only the holder or an admin may release this token.');
      }
      const [lease] = await endActiveLeases(tx, [token.leaseId], 'released');
      // The lease reached its end between the lock and this write: it expired, it was not released.
      if (!lease) throw errors.tokenNotActive(tokenId);
      await freeTokens(tx, [tokenId]);
      await insertAuditEntry(tx, {
        action: 'token.released',
        userId: caller.userId,
        target: { type: 'token', id: tokenId },
        metadata: { userId: lease.userId },
        context,
      });
      return lease;
    });
    leaseEnds.inc({ reason: 'released' });
    await publish([{ type: 'released', tokenId, userId: ended.userId, endedAt: ended.endedAt as string }]);
    return ended;
  }

  // A request left without a token: it waits its turn, or hears that the pool is full.
  async function waitOrRefuse(
    answer: FullPool | InLine,
    waitSeconds: number,
    signal?: AbortSignal,
  ): Promise<LeaseResult> {
    try {
      if (answer.waiterId === null) throw errors.poolFull(answer.retryAfter);
      return await queue().wait(answer.waiterId, waitSeconds, signal);
    } catch (error) {
      if (error instanceof AppError && error.code === 'POOL_FULL') leases.inc({ outcome: 'refused' });
      throw error;
    }
  }

  // Made when a request first waits: most processes never hold a waiter.
  let leaseQueue: LeaseQueue | undefined;
  const queue = () => {
    leaseQueue ??= createLeaseQueue({ database, events, logger, ttlSeconds: ttl });
    return leaseQueue;
  };

  return {
    /**
     * Leases a token for `holderId` (the caller unless an admin names someone else). On a full pool
     * the oldest lease is evicted; with `onFull: "fail"`, 409 POOL_FULL; with `"wait"`, the request
     * waits in line for a freed token, up to `waitSeconds`, then 409 POOL_FULL. `signal` aborts when
     * the client goes away: a waiting request then gives up its place and never keeps a lease.
     */
    async lease(
      caller: Principal,
      request: LeaseAsked,
      context: AuditOrigin,
      signal?: AbortSignal,
    ): Promise<LeaseResult> {
      const holder = request.userId ?? caller.userId;
      if (holder !== caller.userId && caller.role !== 'admin') {
        throw errors.forbidden('Only admins may lease a token for another user.');
      }
      const onFull = request.onFull ?? 'evict';
      const waitSeconds = onFull === 'wait' ? (request.waitSeconds ?? DEFAULT_WAIT_SECONDS) : null;
      const answer = await leaseBatched({
        holderId: holder,
        actorId: caller.userId,
        context,
        evict: onFull === 'evict',
        waitSeconds,
        metadata: request.metadata ?? null,
      });
      if (answer.tokenId !== null) await flushed();
      const result = answer.tokenId !== null ? answer : await waitOrRefuse(answer, waitSeconds ?? 0, signal);
      leases.inc({ outcome: !result.created ? 'same' : result.evictedUserId ? 'evicted' : 'created' });
      countExpired(result.expired);
      if (result.evictedUserId) leaseEnds.inc({ reason: 'evicted' });
      if (result.created) {
        const list: TokenEvent[] = expiredEvents(result.expired);
        if (result.evictedUserId) {
          list.push({ type: 'evicted', tokenId: result.tokenId, userId: result.evictedUserId, byUserId: holder });
        }
        const { tokenId, userId, leasedAt, expiresAt, fence, metadata } = result;
        list.push({ type: 'leased', tokenId, userId, leasedAt, expiresAt, fence, metadata });
        void publish(list);
      }
      if (waitSeconds !== null && signal?.aborted && result.created) {
        // Granted as the client went away: it never learns of the lease, so nobody may keep it.
        const { tokenId } = result;
        await release(caller, tokenId, context).catch((error: unknown) =>
          logger.warn({ err: error, tokenId }, 'could not release a lease its client left behind'),
        );
      }
      return result;
    },

    /** Answers this process's waiting requests 503 and stops claiming for them: it is shutting down. */
    async close(): Promise<void> {
      await leaseQueue?.close();
    },

    release,

    /** Ends every active lease as `cleared`, in one transaction. */
    async clear(caller: Principal, context: AuditOrigin): Promise<number> {
      const ended = await db.transaction(async (tx) => {
        await lockPool(tx, false);
        const locked = await lockActiveTokens(tx);
        const ends = await endActiveLeases(
          tx,
          locked.map((t) => t.leaseId),
          'cleared',
        );
        await freeTokens(
          tx,
          ends.map((end) => end.tokenId),
        );
        await insertAuditEntry(tx, {
          action: 'tokens.cleared',
          userId: caller.userId,
          metadata: { released: ends.length },
          context,
        });
        return ends;
      });
      await publish([{ type: 'cleared', released: ended.length, tokenIds: ended.map((end) => end.tokenId) }]);
      if (ended.length > 0) leaseEnds.inc({ reason: 'cleared' }, ended.length);
      return ended.length;
    },

    /** Bookkeeping: closes due leases as expired, a batch at a time, and announces them. */
    async expireDue(batchSize = 500): Promise<number> {
      let total = 0;
      for (;;) {
        const ends = await expireDueLeases(db, batchSize);
        total += ends.length;
        countExpired(ends);
        if (ends.length > 0) await publish(expiredEvents(ends));
        if (ends.length < batchSize) return total;
      }
    },
  };
}
