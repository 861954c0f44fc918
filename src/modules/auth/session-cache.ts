import { setTimeout as sleep } from 'node:timers/promises';
import type { EventBus } from '../../infra/events/event-bus.js';
import type { Logger } from '../../infra/logger.js';
import type { LiveSession } from './sessions.sql.js';

/** Where a process says that some of a user's sessions ended: `{ userId }`. */
const CHANNEL = 'sessions';
/** Longest an entry is trusted, for a process whose link to the others breaks unnoticed. */
const DEFAULT_TTL_MS = 2000;
const DEFAULT_MAX_ENTRIES = 10_000;
const RESUBSCRIBE_MS = 1000;

export interface SessionCacheOptions {
  /** Off where a process that ends a session could not tell this one (PostgreSQL without Redis). */
  enabled: boolean;
  ttlMs?: number;
  maxEntries?: number;
}

/** What the auth service tells when it ends sessions. */
export interface SessionEnds {
  /**
   * Some of `userId`'s sessions ended (the ending has committed): every process forgets the ones
   * it keeps. Resolves once no process can still trust one: once the word is out to every process,
   * or, when it could not go out, once every entry read before now is past its time to live.
   */
  ended(userId: string): Promise<void>;
}

export interface SessionCache extends SessionEnds {
  /** The session as last read, while it may be trusted; else a fresh read, kept if nothing changed meanwhile. */
  find(
    sessionId: string,
    read: (sessionId: string) => Promise<LiveSession | undefined>,
  ): Promise<LiveSession | undefined>;
  close(): Promise<void>;
}

interface Entry {
  session: LiveSession;
  /** `performance.now()` past which it is read again: `ttlMs` after its read began. */
  until: number;
  /** The event bus's stretch it was read in: a break since may have lost the message that ends it. */
  stretch: number;
}

/**
 * Each process keeps the live sessions it has read, so an authenticated request costs no
 * database round trip. A session's end is told to every process (`ended`) before the request that
 * ended it is answered, so its access tokens stop working at once everywhere, as with a read per
 * request. Where the telling may have failed, the cache is not trusted: while this process's
 * subscription is down or since it broke, and for any entry older than `ttlMs`. A process that
 * could not tell at all answers the ending only once that age has passed.
 */
export function createSessionCache(events: EventBus, logger: Logger, options: SessionCacheOptions): SessionCache {
  const { enabled, ttlMs = DEFAULT_TTL_MS, maxEntries = DEFAULT_MAX_ENTRIES } = options;
  const entries = new Map<string, Entry>();
  // Each user's sessions among the entries, so that an end costs the sessions of one user to forget,
  // not a walk over every entry in every process.
  const byUser = new Map<string, Set<string>>();
  // Bumped by every message: a read that began before one may have seen the session before it
  // ended, so it is not kept.
  let changes = 0;
  let listening = false;
  let closed = false;
  let unsubscribe: (() => void) | undefined;
  let retry: NodeJS.Timeout | undefined;

  const drop = (sessionId: string) => {
    const entry = entries.get(sessionId);
    if (!entry) return;
    entries.delete(sessionId);
    const sessions = byUser.get(entry.session.userId);
    sessions?.delete(sessionId);
    if (sessions?.size === 0) byUser.delete(entry.session.userId);
  };
  const keep = (session: LiveSession, stretch: number, readAt: number) => {
    drop(session.sessionId);
    if (entries.size >= maxEntries) drop(entries.keys().next().value as string);
    entries.set(session.sessionId, { session, until: readAt + ttlMs, stretch });
    const sessions = byUser.get(session.userId) ?? new Set<string>();
    byUser.set(session.userId, sessions.add(session.sessionId));
  };
  const forget = (userId: string) => {
    changes += 1;
    for (const sessionId of byUser.get(userId) ?? []) drop(sessionId);
  };

  const listen = () => {
    events
      .subscribe(CHANNEL, (message) => {
        const userId = (message as { userId?: unknown } | null)?.userId;
        if (typeof userId === 'string') forget(userId);
      })
      .then(
        (stop) => {
          if (closed) return stop();
          unsubscribe = stop;
          listening = true;
        },
        (error: unknown) => {
          if (closed) return;
          logger.warn({ err: error }, 'could not hear of ended sessions; reading each from the database');
          retry = setTimeout(listen, RESUBSCRIBE_MS).unref();
        },
      );
  };
  if (enabled) listen();

  return {
    async find(sessionId, read) {
      const stretch = listening ? events.stretch() : null;
      if (stretch === null) return read(sessionId);
      const entry = entries.get(sessionId);
      if (entry && entry.stretch === stretch && entry.until > performance.now()) return entry.session;
      const before = changes;
      // The time to live counts from before the read: an ending that committed while it was under
      // way is then past every process's entries `ttlMs` after it, which `ended` relies on.
      const readAt = performance.now();
      const session = await read(sessionId);
      if (!session) drop(sessionId);
      else if (changes === before && events.stretch() === stretch) keep(session, stretch, readAt);
      return session;
    },

    async ended(userId) {
      // This process at once, before it can answer another request; the others through the bus.
      forget(userId);
      // Told to nobody (this process cannot reach Redis, though others may and keep the session):
      // the ending is not answered before their entries are past trusting.
      if (enabled && !(await events.publish(CHANNEL, { userId }))) await sleep(ttlMs);
    },

    async close() {
      closed = true;
      clearTimeout(retry);
      unsubscribe?.();
      entries.clear();
      byUser.clear();
    },
  };
}
