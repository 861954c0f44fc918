import { createBatcher } from '../../infra/concurrency/batcher.js';
import type { Database } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import type { Authenticator } from '../../infra/http/route-auth.js';
import { createApiKeyAuthenticator } from '../api-keys/authenticate-key.js';
import { looksLikeApiKey } from '../api-keys/key-format.js';
import type { AccessCredentials } from './access-credentials.js';
import { hashSecret } from './opaque-secrets.js';
import type { SessionCache } from './session-cache.js';
import { findLiveSessions } from './sessions.sql.js';
import { consumeStreamTicket } from './stream-tickets.sql.js';

const bearerOf = (header: string | undefined) => header?.match(/^Bearer\s+(\S+)$/i)?.[1];

/**
 * Access tokens and stream tickets, each checked against a live session (see session-cache.ts),
 * and API keys (authenticate-key.ts).
 */
export function createAuthenticator(
  database: Database,
  accessCredentials: AccessCredentials,
  sessions: SessionCache,
): Authenticator {
  // Concurrent requests share one lookup. Each waits for a lookup that starts after it arrived, so
  // a session ended before a request came is seen ended, as with a lookup of its own.
  const findLiveSession = createBatcher(async (sessionIds: string[]) => {
    const live = new Map((await findLiveSessions(database, sessionIds)).map((row) => [row.sessionId, row]));
    return sessionIds.map((id) => live.get(id));
  });
  const apiKey = createApiKeyAuthenticator(database);
  return {
    offersApiKey(header) {
      const token = bearerOf(header);
      return token !== undefined && looksLikeApiKey(token);
    },
    async bearer(header) {
      const token = bearerOf(header);
      if (!token) throw errors.unauthenticated();
      if (looksLikeApiKey(token)) return apiKey(token);
      const claims = await accessCredentials.verify(token);
      if (!claims) throw errors.unauthenticated('The access token is invalid or expired.');
      // Every request checks its session, so a logout or reset ends its access tokens at once in
      // every process; the role comes from the database, never from a stale token.
      const session = await sessions.find(claims.sessionId, findLiveSession);
      if (!session || session.userId !== claims.userId) throw errors.unauthenticated('The session has ended.');
      return { ...claims, role: session.role };
    },
    async ticket(value) {
      const claims = await consumeStreamTicket(database, hashSecret(value));
      if (!claims) throw errors.unauthenticated('The stream ticket is invalid, spent or expired.');
      return claims;
    },
  };
}
