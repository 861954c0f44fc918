import { randomUUID } from 'node:crypto';
import type { Db } from './db/database.js';
import { ensureDeploymentSetting } from './db/deployment-settings.sql.js';

/**
 * The prefix of every Redis key this deployment writes: `REDIS_PREFIX` and the id its database
 * made at its first start. A recreated database gets a new id, so it never meets the keys an
 * earlier one left (BullMQ job ids, progress, rate limits), and two deployments that share a Redis
 * and a prefix never read each other's jobs or events.
 */
export async function redisNamespace(db: Db, prefix: string): Promise<string> {
  return `${prefix}:${await ensureDeploymentSetting(db, 'deployment_id', randomUUID())}`;
}
