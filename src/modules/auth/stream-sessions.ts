import type { FastifyInstance } from 'fastify';
import type { Db } from '../../infra/db/database.js';
import { findLiveApiKeyIds } from '../api-keys/api-keys.sql.js';
import { findLiveSessionIds } from './sessions.sql.js';

/**
 * Event streams are bound to the session they were opened in: within about `intervalMs` of that
 * session ending (logout, reset, password change, a reused refresh token), its streams close, in
 * every process, because each process looks up its own open streams' sessions in the database,
 * where every session ends. One query a tick for all of them, and none while no stream is open.
 * A stream opened with an API key is bound to the key: it closes once the key is revoked or expired.
 */
export function endStreamsWithTheirSessions(app: FastifyInstance, db: Db, intervalMs = 1000): void {
  let timer: NodeJS.Timeout | undefined;
  let checking = false;
  const check = async () => {
    const streams = [...app.eventStreams];
    if (streams.length === 0 || checking) return;
    checking = true;
    try {
      const ids = [...new Set(streams.map((stream) => stream.sessionId))];
      const [sessions, keys] = await Promise.all([findLiveSessionIds(db, ids), findLiveApiKeyIds(db, ids)]);
      const live = new Set([...sessions, ...keys]);
      for (const stream of streams) if (!live.has(stream.sessionId)) stream.close();
    } catch (error) {
      // The database is away: the streams stay until it answers again.
      app.log.warn({ err: error }, 'could not check the sessions of open event streams');
    } finally {
      checking = false;
    }
  };
  app.addHook('onReady', async () => {
    timer = setInterval(() => void check(), intervalMs);
    timer.unref();
  });
  app.addHook('preClose', async () => clearInterval(timer));
}
