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
   * Some of `userId`'s sessions ended: every process forgets the ones it keeps. Resolves once
   * the word is out (to every process while Redis carries it), after the ending committed.
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
  until: number;
  /** The event bus's stretch it was read in: a break since may have lost the message that ends it. */
  stretch: number;
}

/**
 * Each process keeps the live sessions it has read, so an authenticated request costs no
 * database round trip. A session's end is told to every process (`ended`) before the request that
 * ended it is answered, so its access tokens stop working at once everywhere, as with a read per
 * request. Where the telling may have failed, the cache is not trusted: while this process's
 * subscription is down or since it broke, and for any entry older than `ttlMs`.
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
  const keep = (session: LiveSession, stretch: number) => {
    drop(session.sessionId);
    if (entries.size >= maxEntries) drop(entries.keys().next().value as string);
    entries.set(session.sessionId, { session, until: Date.now() + ttlMs, stretch });
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
      if (entry && entry.stretch === stretch && entry.until > Date.now()) return entry.session;
      const before = changes;
      const session = await read(sessionId);
      if (!session) drop(sessionId);
      else if (changes === before && events.stretch() === stretch) keep(session, stretch);
      return session;
    },

    async ended(userId) {
      // This process at once, before it can answer another request; the others through the bus.
      forget(userId);
      if (enabled) await events.publish(CHANNEL, { userId });
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
