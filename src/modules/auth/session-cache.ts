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
  // Bumped by every message: a read that began before one may have seen the session before it
  // ended, so it is not kept.
  let changes = 0;
  let listening = false;
  let closed = false;
  let unsubscribe: (() => void) | undefined;
  let retry: NodeJS.Timeout | undefined;

  const forget = (userId: string) => {
    changes += 1;
    for (const [id, entry] of entries) if (entry.session.userId === userId) entries.delete(id);
  };

  const listen = () => {
    events
      .subscribe(CHANNEL, (message) => {
        const { userId } = message as { userId?: unknown };
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
      if (!session) {
        entries.delete(sessionId);
      } else if (changes === before && events.stretch() === stretch) {
        entries.delete(sessionId);
        if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
        entries.set(sessionId, { session, until: Date.now() + ttlMs, stretch });
      }
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
    },
  };
}
