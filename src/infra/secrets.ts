import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './db/database.js';
import { ensureDeploymentSetting } from './db/deployment-settings.sql.js';

/**
 * The key material for access tokens: `JWT_SECRET` when set, otherwise one key for the whole
 * deployment, made by the first process that starts and kept in the database. Every process reads
 * that one, whatever machine or `DATA_DIR` it has: a key of its own would refuse the tokens the
 * others sign. It is as safe there as the sessions it guards, which the database holds anyway.
 */
export async function resolveJwtSecret(configured: string | undefined, db: Db, dataDir: string): Promise<string> {
  if (configured) return configured;
  // A key an earlier version kept in DATA_DIR is offered first, so the tokens it signed stay good.
  const earlier = await readFile(join(dataDir, 'jwt-secret'), 'utf8').then(
    (text) => text.trim(),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    },
  );
  return ensureDeploymentSetting(db, 'jwt_secret', earlier || randomBytes(48).toString('base64url'));
}
