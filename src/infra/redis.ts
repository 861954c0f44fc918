import { Redis } from 'ioredis';
import { within } from './concurrency/deadline.js';

export interface RedisTimeouts {
  /** How long one attempt to connect may take. */
  connectTimeoutMs: number;
  /** How long a command may wait for its answer, queued while Redis is away included. */
  commandTimeoutMs: number;
  /**
   * How long a connection may wait with a command sent and nothing heard before it is dropped and
   * made again. A Redis that vanished without closing the connection (a dead host, or something
   * in between that accepts and never answers) leaves one that no command timeout ends: commands
   * fail one by one on it, and BullMQ's wait there for a job never returns.
   */
  socketTimeoutMs: number;
}

// ioredis reports every failed reconnect as an 'error' event, and prints the ones no listener
// takes; whoever uses the connection reports an outage once, so these are dropped.
const ignore = () => {};

/**
 * BullMQ's connection: its workers block on Redis, so BullMQ requires `maxRetriesPerRequest: null`
 * (a command waits for a reconnect instead of failing). Nothing on a request's path may use it.
 */
export function createRedis(
  url: string,
  { connectTimeoutMs, socketTimeoutMs }: Pick<RedisTimeouts, 'connectTimeoutMs' | 'socketTimeoutMs'>,
): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    connectTimeout: connectTimeoutMs,
    socketTimeout: socketTimeoutMs,
  }).on('error', ignore);
}

/**
 * The connection requests use (rate limits, events, progress): a command fails after
 * `commandTimeoutMs` whatever Redis does, and commands queued while it is away fail at the first
 * reconnect that fails, so none waits on an outage.
 */
export function createRequestRedis(url: string, timeouts: RedisTimeouts): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: timeouts.connectTimeoutMs,
    commandTimeout: timeouts.commandTimeoutMs,
    socketTimeout: timeouts.socketTimeoutMs,
  }).on('error', ignore);
}

/** Quits politely when Redis answers within `timeoutMs`, else drops the connection: closing never hangs. */
export async function closeRedis(redis: Redis, timeoutMs: number): Promise<void> {
  const outcome = await within(
    redis.quit().catch(() => 'late' as const),
    timeoutMs,
    'late' as const,
  );
  if (outcome === 'late') redis.disconnect();
}

// What ioredis says when a command could not be answered because Redis is away.
const UNAVAILABLE = /^(Command timed out|Connection is closed\.|Stream isn't writeable)/;

/** Whether the error says Redis is away (and retrying later may help), not that a command is wrong. */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'MaxRetriesPerRequestError' || UNAVAILABLE.test(error.message);
}

// What the socket says when the connection to Redis cannot be made or was lost.
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

/** Whether the error is about reaching Redis at all (refused, reset, silent), not about a command. */
export function isRedisConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code } = error as NodeJS.ErrnoException;
  return (
    isRedisUnavailable(error) ||
    (code !== undefined && CONNECTION_CODES.has(code)) ||
    /^Socket timeout/.test(error.message)
  );
}
