import type { Database } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import type { Principal } from '../../infra/http/principal.js';
import type { Scope } from '../../infra/http/scopes.js';
import { findApiKey, recordKeyUse } from './api-keys.sql.js';
import { hashApiKey, isWellFormedApiKey } from './key-format.js';

/**
 * The caller behind an API key: its owner, with the key's scopes and pools for the route to narrow
 * it by (route-auth.ts).
 *
 * Not cached: each request reads the key (one read of a unique index), so a revocation or an
 * expiry holds at once in every process with nothing to tell them, and the read is no dearer than
 * the session check an access token costs when its cache is cold.
 */
export async function authenticateApiKey(database: Database, key: string): Promise<Principal> {
  // A malformed key, or one whose checksum fails, is refused before the database is asked.
  if (!isWellFormedApiKey(key)) throw errors.unauthenticated('The API key is malformed.');
  const found = await findApiKey(database, hashApiKey(key));
  if (!found) throw errors.unauthenticated('The API key is unknown.');
  if (found.revoked) throw errors.apiKeyRevoked();
  if (found.expired) throw errors.apiKeyExpired();
  // At most one write a minute per key, however many requests it makes.
  if (found.useDue) await recordKeyUse(database, found.id);
  return {
    userId: found.ownerId,
    role: found.role,
    // A key's streams end with the key (stream-sessions.ts).
    sessionId: found.id,
    apiKey: { id: found.id, scopes: found.scopes as Scope[], pools: found.pools },
  };
}
