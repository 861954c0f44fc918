import { createBatcher } from '../../infra/concurrency/batcher.js';
import type { Database } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import type { Principal } from '../../infra/http/principal.js';
import type { Scope } from '../../infra/http/scopes.js';
import { findApiKeys, type KeyLookup, recordKeyUse } from './api-keys.sql.js';
import { hashApiKey, isWellFormedApiKey } from './key-format.js';

/**
 * The caller behind an API key: its owner, with the key's scopes and pools for the route to narrow
 * it by (route-auth.ts).
 *
 * Not cached: each request waits for a read of its key that began after it arrived (concurrent
 * requests share one, as access tokens' session checks do), so a revocation or an expiry holds at
 * once in every process with nothing to tell them.
 */
export function createApiKeyAuthenticator(database: Database): (key: string) => Promise<Principal> {
  const findKeys = createBatcher(async (keyHashes: string[]) => {
    const found = new Map((await findApiKeys(database, [...new Set(keyHashes)])).map((key) => [key.keyHash, key]));
    // A use is written once a minute per key: of a batch's requests with one key, the first only.
    const written = new Set<string>();
    return keyHashes.map((hash): KeyLookup | undefined => {
      const key = found.get(hash);
      if (!key) return undefined;
      const useDue = key.useDue && !written.has(hash);
      written.add(hash);
      return { ...key, useDue };
    });
  });
  return async (key) => {
    // A malformed key, or one whose checksum fails, is refused before the database is asked.
    if (!isWellFormedApiKey(key)) throw errors.unauthenticated('The API key is malformed.');
    const found = await findKeys(hashApiKey(key));
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
  };
}
