import { and, count, desc, eq, gt, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import { type Database, type Executor, pgArray, type Statement } from '../../infra/db/database.js';
import { apiKeys } from '../../infra/db/schema.js';
import type { Role } from '../../infra/http/principal.js';

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** How often at most a key's `last_used_at` is written: a request needs to know "lately", not "when exactly". */
const LAST_USE_RESOLUTION = '1 minute';

export async function insertApiKey(
  executor: Executor,
  values: {
    ownerId: string;
    createdBy: string;
    name: string;
    keyHash: string;
    prefix: string;
    scopes: string[];
    pools: string[] | null;
    /** Seconds from now, by the database clock. */
    lifetimeSeconds: number;
  },
): Promise<ApiKeyRow> {
  const { lifetimeSeconds, ...row } = values;
  const [inserted] = await executor
    .insert(apiKeys)
    .values({ ...row, expiresAt: sql`now() + make_interval(secs => ${lifetimeSeconds})` })
    .returning();
  if (!inserted) throw new Error('insert into api_keys returned no row');
  return inserted;
}

const FIND_API_KEY: Statement = {
  name: 'find_api_key',
  text: `select k.key_hash as "keyHash", k.id, k.owner_id as "ownerId", u.role, k.scopes, k.pools,
                k.revoked_at is not null as revoked, k.expires_at <= now() as expired,
                k.last_used_at is null or k.last_used_at <= now() - interval '${LAST_USE_RESOLUTION}' as "useDue"
           from api_keys k join users u on u.id = k.owner_id
          where k.key_hash = any($1::text[])`,
};

export interface KeyLookup {
  keyHash: string;
  id: string;
  ownerId: string;
  /** The owner's role now: a key follows its owner's demotion at once. */
  role: Role;
  scopes: string[];
  pools: string[] | null;
  revoked: boolean;
  /** By the database clock. */
  expired: boolean;
  /** Its last use is older than the resolution: this use should be written. */
  useDue: boolean;
}

/**
 * findApiKeys: the keys with these hashes, each with its owner's role and its state by the database
 * clock. Every request made with a key runs it (concurrent ones share one call), so it is one
 * prepared read of the unique index.
 */
export async function findApiKeys(database: Database, keyHashes: string[]): Promise<KeyLookup[]> {
  return database.query<KeyLookup>(FIND_API_KEY, [pgArray(keyHashes)]);
}

const RECORD_KEY_USE: Statement = {
  name: 'record_api_key_use',
  text: `update api_keys set last_used_at = now()
          where id = $1 and (last_used_at is null or last_used_at <= now() - interval '${LAST_USE_RESOLUTION}')`,
};

/**
 * recordKeyUse: writes `last_used_at` unless another request did within the resolution. Requests
 * that race here queue on the row lock and read it again, so only the first one writes.
 */
export async function recordKeyUse(database: Database, id: string): Promise<void> {
  await database.query(RECORD_KEY_USE, [id]);
}

const live = isNull(apiKeys.revokedAt);
const ownedBy = (ownerId: string | undefined): SQL | undefined =>
  ownerId === undefined ? undefined : eq(apiKeys.ownerId, ownerId);

/** The keys not revoked, newest first: of one owner, or everyone's when `ownerId` is undefined. */
export async function listApiKeys(
  executor: Executor,
  ownerId: string | undefined,
  limit: number,
  offset: number,
): Promise<ApiKeyRow[]> {
  return executor
    .select()
    .from(apiKeys)
    .where(and(live, ownedBy(ownerId)))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(limit)
    .offset(offset);
}

export async function countApiKeys(executor: Executor, ownerId: string | undefined): Promise<number> {
  const [row] = await executor
    .select({ total: count() })
    .from(apiKeys)
    .where(and(live, ownedBy(ownerId)));
  return row?.total ?? 0;
}

/** A key not revoked, locked until the transaction ends so a rotation and a revocation take turns. */
export async function lockLiveApiKey(executor: Executor, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await executor
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), live))
    .for('update');
  return row;
}

export async function revokeApiKey(executor: Executor, id: string): Promise<void> {
  await executor.update(apiKeys).set({ revokedAt: sql`now()` }).where(eq(apiKeys.id, id));
}

/**
 * endOverlap: the key expires `overlapSeconds` from now, or when it would have, whichever is
 * first; answers the new expiry.
 */
export async function endOverlap(executor: Executor, id: string, overlapSeconds: number): Promise<Date> {
  const [row] = await executor
    .update(apiKeys)
    .set({ expiresAt: sql`least(${apiKeys.expiresAt}, now() + make_interval(secs => ${overlapSeconds}))` })
    .where(eq(apiKeys.id, id))
    .returning({ expiresAt: apiKeys.expiresAt });
  if (!row) throw new Error('update of api_keys returned no row');
  return row.expiresAt;
}

/** Of the given keys, those not revoked nor expired (by the database clock). */
export async function findLiveApiKeyIds(executor: Executor, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await executor
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(inArray(apiKeys.id, ids), live, gt(apiKeys.expiresAt, sql`now()`)));
  return rows.map((row) => row.id);
}
