import { serialRounds } from '../../infra/concurrency/serial-rounds.js';
import type { Database } from '../../infra/db/database.js';
import type { EventBus } from '../../infra/events/event-bus.js';
import { errors } from '../../infra/http/errors.js';
import type { Logger } from '../../infra/logger.js';
import type { LeaseResult } from './sql/lease-tokens.js';
import {
  claimWaitingLeases,
  countWaiters,
  firstLeaseEndSeconds,
  forgetWaiters,
  type WaiterClaim,
} from './sql/lease-waiters.js';
import { publishTokenEvents, TOKEN_EVENTS_CHANNEL, type TokenEvent } from './token-events.js';

/**
 * How often a process claims for its waiters when nothing woke it: well within lease_waiter_grace
 * (migrations/0010), so they keep their places, and soon enough after an event that was lost.
 */
const CLAIM_EVERY_MS = 1000;
/** A token whose lease ends at t is free from t on, by the database clock: wake just after. */
const AFTER_END_MS = 5;

const FREES_A_TOKEN: ReadonlySet<TokenEvent['type']> = new Set(['released', 'expired', 'cleared']);

export interface LeaseQueueDeps {
  readonly database: Database;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly ttlSeconds: number;
}

export interface LeaseQueue {
  /**
   * Waits in line as `waiterId` (a place lease_one gave) until served, out of time (409 POOL_FULL),
   * or `signal` aborts because the client went away: then the place is given up, never a lease.
   */
  wait(waiterId: number, waitSeconds: number, signal?: AbortSignal): Promise<LeaseResult>;
  /** Answers every waiter 503 and stops: the process is shutting down. */
  close(): Promise<void>;
}

interface Waiter {
  deadline: number;
  resolve(lease: LeaseResult): void;
  reject(error: unknown): void;
}

/** A claim served a waiter whose client had gone away meanwhile: rolled back, and tried again. */
class AbandonedClaim extends Error {}

/**
 * This process's waiters. Only the process that holds a waiting request claims for it, so a lease
 * is only ever made for a client still connected; first come, first served holds across processes
 * because every claim counts the waiters of all of them (see lease_one in migrations/0010).
 */
export function createLeaseQueue({ database, events, logger, ttlSeconds }: LeaseQueueDeps): LeaseQueue {
  const waiting = new Map<number, Waiter>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let listening: Promise<(() => void) | undefined> | undefined;

  const rounds = serialRounds(claimRound, {
    stopped: () => closed,
    settled: (error) => {
      if (error) logger.warn({ err: error }, 'could not claim for waiting leases');
    },
  });

  function claimIn(ms: number) {
    clearTimeout(timer);
    if (!closed && waiting.size > 0) timer = setTimeout(() => rounds.kick(), Math.max(0, ms));
  }

  function settle(waiterId: number, outcome: { lease: LeaseResult } | { error: unknown }) {
    const waiter = waiting.get(waiterId);
    if (!waiter) return;
    waiting.delete(waiterId);
    if ('lease' in outcome) waiter.resolve(outcome.lease);
    else waiter.reject(outcome.error);
  }

  // Wake-ups are a shortcut: the claim every second finds a free token without them. A shorter
  // line means a waiter left or was served, and a token it was promised may be someone else's turn.
  let lastHeard = 0;
  function listen() {
    listening ??= events
      .subscribe(TOKEN_EVENTS_CHANNEL, (message) => {
        const event = message as TokenEvent;
        if (FREES_A_TOKEN.has(event.type)) rounds.kick();
        if (event.type === 'waiting') {
          if (event.waiting < lastHeard) rounds.kick();
          lastHeard = event.waiting;
        }
      })
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'waiting leases hear of freed tokens only by polling');
        listening = undefined;
        return undefined;
      });
  }

  /** Tells every process and the live views how long the line is now. */
  async function announce() {
    try {
      await publishTokenEvents(events, [{ type: 'waiting', waiting: await countWaiters(database.db) }]);
    } catch (error) {
      logger.warn({ err: error }, 'could not announce the waiting line');
    }
  }

  async function giveUp(waiterIds: number[]) {
    try {
      await forgetWaiters(database.db, waiterIds);
    } catch (error) {
      logger.warn({ err: error }, 'could not take waiters out of line; their places lapse');
    }
    await announce();
  }

  async function claimRound(): Promise<boolean> {
    const asked = [...waiting.keys()];
    if (asked.length === 0) return false;
    let claims: WaiterClaim[];
    try {
      claims = await database.db.transaction(async (tx) => {
        const found = await claimWaitingLeases(tx, asked, ttlSeconds);
        if (found.some((claim) => claim.lease && !waiting.has(claim.waiterId))) throw new AbandonedClaim();
        return found;
      });
    } catch (error) {
      if (error instanceof AbandonedClaim) return true;
      // The database is away: a waiter whose time is up hears so, the others wait on.
      const now = Date.now();
      for (const [id, waiter] of waiting) if (waiter.deadline <= now) settle(id, { error });
      claimIn(CLAIM_EVERY_MS);
      throw error;
    }

    const now = Date.now();
    const byId = new Map(claims.map((claim) => [claim.waiterId, claim]));
    const overdue: number[] = [];
    for (const id of asked) {
      const claim = byId.get(id);
      if (claim?.lease) settle(id, { lease: claim.lease });
      else if (!claim) settle(id, { error: errors.unavailable('The request lost its place in line; ask again.') });
      else if ((waiting.get(id)?.deadline ?? Number.POSITIVE_INFINITY) <= now) overdue.push(id);
    }
    if (overdue.length > 0) {
      // Only this process claims for its waiters, so once out of line they can no longer be served.
      await giveUp(overdue);
      const retryAfter = await firstLeaseEndSeconds(database.db).catch(() => 1);
      for (const id of overdue) settle(id, { error: errors.poolFull(retryAfter) });
    } else if (claims.some((claim) => claim.lease) || claims.length < asked.length) {
      await announce();
    }

    const nextEndMs = claims.find((claim) => claim.nextEndMs !== null)?.nextEndMs;
    const firstDeadline = Math.min(...[...waiting.values()].map((waiter) => waiter.deadline));
    claimIn(Math.min(CLAIM_EVERY_MS, (nextEndMs ?? Number.POSITIVE_INFINITY) + AFTER_END_MS, firstDeadline - now));
    return false;
  }

  return {
    wait(waiterId, waitSeconds, signal) {
      return new Promise<LeaseResult>((resolve, reject) => {
        if (closed) {
          reject(errors.unavailable('The service is shutting down.'));
          void giveUp([waiterId]);
          return;
        }
        waiting.set(waiterId, { deadline: Date.now() + waitSeconds * 1000, resolve, reject });
        const leave = () => {
          if (!waiting.has(waiterId)) return;
          settle(waiterId, { error: errors.poolFull(1) });
          void giveUp([waiterId]);
        };
        if (signal?.aborted) leave();
        else signal?.addEventListener('abort', leave, { once: true });
        listen();
        void announce();
        if (waiting.size === 1) claimIn(CLAIM_EVERY_MS);
      });
    },

    async close() {
      closed = true;
      clearTimeout(timer);
      await rounds.idle();
      const left = [...waiting.keys()];
      for (const id of left) settle(id, { error: errors.unavailable('The service is shutting down.') });
      if (left.length > 0) await giveUp(left);
      // Not awaited: a subscription still waiting for Redis must not hold up the shutdown.
      void listening?.then((unsubscribe) => unsubscribe?.());
    },
  };
}
