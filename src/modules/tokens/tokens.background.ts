import type { BackgroundWork } from '../../infra/background-work.js';
import { startLoop } from '../../infra/concurrency/interval-loop.js';
import type { Database } from '../../infra/db/database.js';
import { ensureTokenPool } from './sql/ensure-token-pool.js';
import { vacuumTokens } from './sql/vacuum-tokens.js';
import { createTokensService, type TokensDeps } from './tokens.service.js';

// Due leases are closed in the history within a second of their end; correctness never waits for it.
const EXPIRY_SWEEP_MS = 250;

// Every lease rewrites its token's row and leaves index entries behind, which the searches for a
// free token, an expired one or the oldest lease walk over until a vacuum removes them. At a pool of
// 100,000 filling up, the leases a second halved within a minute (2,777 to 1,304 in 8-second
// windows) with PostgreSQL's own autovacuum, which looks a minute apart by default (and PGlite has
// none); vacuumed every two seconds, they held at about 3,000 until the pool was full and began to
// evict. One vacuum of a pool of 100,000 takes about 40 ms after two seconds of leases, 10 ms with
// nothing to clean; of a pool of 100, about a millisecond.
const POOL_VACUUM_MS = 2000;

/** Before a process serves: the pool exists at its configured size, made once at the first start. */
export async function preparePool(database: Database, size: number): Promise<void> {
  // A large pool takes longer to make than any request may take.
  await database.withoutTimeouts((db) => ensureTokenPool(db, size));
}

/**
 * In worker processes: the sweep that closes due leases as `expired` and announces them, and the
 * vacuum that keeps the pool's searches short.
 */
export function poolWork(deps: TokensDeps): BackgroundWork {
  return {
    start: () => {
      const tokens = createTokensService(deps);
      return [
        startLoop('lease expiry sweep', () => tokens.expireDue(), deps.logger, EXPIRY_SWEEP_MS),
        startLoop('token pool vacuum', () => vacuumTokens(deps.database), deps.logger, POOL_VACUUM_MS),
      ];
    },
  };
}
