import type { Database, Statement } from '../../../infra/db/database.js';

/**
 * vacuumTokens: removes the row versions and index entries that leases left behind in `tokens`.
 * SKIP_LOCKED: when another process is vacuuming it, this one does nothing rather than wait.
 * INDEX_CLEANUP ON: the index entries are what the lease searches walk over, so they go even when
 * PostgreSQL would judge them too few to bother with.
 */
const VACUUM_TOKENS: Statement = {
  name: 'vacuum_tokens',
  text: 'vacuum (skip_locked, index_cleanup on) tokens',
};

export async function vacuumTokens(database: Database): Promise<void> {
  await database.query(VACUUM_TOKENS, []);
}
