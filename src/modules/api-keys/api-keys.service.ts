import type { Database, Executor } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import type { Principal } from '../../infra/http/principal.js';
import { roleAllowsScope, type Scope } from '../../infra/http/scopes.js';
import { insertAuditEntry } from '../audit/audit.sql.js';
import type { AuditOrigin } from '../audit/audit-origin.js';
import { findUserById } from '../users/users.sql.js';
import { type CreateApiKeyBody, DEFAULT_EXPIRES_IN_DAYS } from './api-keys.schemas.js';
import { type ApiKeyRow, endOverlap, insertApiKey, lockLiveApiKey, revokeApiKey } from './api-keys.sql.js';
import { hashApiKey, newApiKey, visiblePrefix } from './key-format.js';

const DAY_SECONDS = 86_400;

/** A key as made: its row and the key itself, which is never kept. */
export interface MadeApiKey {
  row: ApiKeyRow;
  key: string;
}

/** Makes a key's secret and writes its row; the secret leaves only in the answer. */
async function makeKey(
  executor: Executor,
  values: Omit<Parameters<typeof insertApiKey>[1], 'keyHash' | 'prefix'>,
): Promise<MadeApiKey> {
  const key = newApiKey();
  const row = await insertApiKey(executor, { ...values, keyHash: hashApiKey(key), prefix: visiblePrefix(key) });
  return { row, key };
}

/** What audit entries say of a key: never the secret nor its hash. */
const described = (row: ApiKeyRow) => ({
  name: row.name,
  prefix: row.prefix,
  ownerId: row.ownerId,
  scopes: row.scopes,
});

/**
 * A new key for the caller, or, for an admin, for another account. A key never holds a scope its
 * owner's role could not use: asking for one is refused (403), not quietly narrowed.
 */
export async function createApiKey(
  database: Database,
  caller: Principal,
  input: CreateApiKeyBody,
  context: AuditOrigin,
): Promise<MadeApiKey> {
  const ownerId = input.ownerId ?? caller.userId;
  if (ownerId !== caller.userId && caller.role !== 'admin') {
    throw errors.forbidden('Only admins may make keys for another account.');
  }
  return database.db.transaction(async (tx) => {
    const owner = await findUserById(tx, ownerId);
    if (!owner) throw errors.notFound('The owner');
    const beyond = input.scopes.filter((scope) => !roleAllowsScope(owner.role, scope));
    if (beyond.length > 0) {
      throw errors.forbidden(`An account with role "${owner.role}" cannot hold the scopes ${beyond.join(', ')}.`);
    }
    const made = await makeKey(tx, {
      ownerId,
      createdBy: caller.userId,
      name: input.name.trim(),
      scopes: input.scopes,
      pools: input.pools ?? null,
      lifetimeSeconds: (input.expiresInDays ?? DEFAULT_EXPIRES_IN_DAYS) * DAY_SECONDS,
    });
    await insertAuditEntry(tx, {
      action: 'api_key.created',
      userId: caller.userId,
      target: { type: 'api_key', id: made.row.id },
      metadata: { ...described(made.row), pools: made.row.pools, expiresAt: made.row.expiresAt.toISOString() },
      context,
    });
    return made;
  });
}

/** The live key `id`, locked, when the caller owns it or is an admin; else 404 (as if there were none). */
async function lockOwnKey(executor: Executor, caller: Principal, id: string): Promise<ApiKeyRow> {
  const row = await lockLiveApiKey(executor, id);
  if (!row || (row.ownerId !== caller.userId && caller.role !== 'admin')) throw errors.notFound('The API key');
  return row;
}

/**
 * A new key with the old one's name, scopes, pools and lifetime; the old one keeps working for
 * `overlapSeconds` (never past its own expiry), so a service can swap keys without a gap.
 */
export async function rotateApiKey(
  database: Database,
  caller: Principal,
  id: string,
  overlapSeconds: number,
  context: AuditOrigin,
): Promise<MadeApiKey> {
  return database.db.transaction(async (tx) => {
    const old = await lockOwnKey(tx, caller, id);
    // The owner's role may have changed since: the new key is held to it, as a new one would be.
    const owner = await findUserById(tx, old.ownerId);
    if (!owner || old.scopes.some((scope) => !roleAllowsScope(owner.role, scope as Scope))) {
      throw errors.forbidden('The owner’s role no longer allows these scopes: make a new key instead.');
    }
    const lifetimeMs = old.expiresAt.getTime() - old.createdAt.getTime();
    const made = await makeKey(tx, {
      ownerId: old.ownerId,
      createdBy: caller.userId,
      name: old.name,
      scopes: old.scopes,
      pools: old.pools,
      lifetimeSeconds: Math.max(1, Math.round(lifetimeMs / 1000)),
    });
    const oldExpiresAt = await endOverlap(tx, old.id, overlapSeconds);
    await insertAuditEntry(tx, {
      action: 'api_key.rotated',
      userId: caller.userId,
      target: { type: 'api_key', id: made.row.id },
      metadata: { ...described(made.row), previousId: old.id, previousExpiresAt: oldExpiresAt.toISOString() },
      context,
    });
    return made;
  });
}

/** Revokes a key at once: the next request made with it, in any process, is refused. */
export async function revokeOwnApiKey(
  database: Database,
  caller: Principal,
  id: string,
  context: AuditOrigin,
): Promise<void> {
  await database.db.transaction(async (tx) => {
    const row = await lockOwnKey(tx, caller, id);
    await revokeApiKey(tx, row.id);
    await insertAuditEntry(tx, {
      action: 'api_key.revoked',
      userId: caller.userId,
      target: { type: 'api_key', id: row.id },
      metadata: described(row),
      context,
    });
  });
}
