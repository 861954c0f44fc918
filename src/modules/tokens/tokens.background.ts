import type { BackgroundWork } from '../../infra/background-work.js';
import { startLoop } from '../../infra/concurrency/interval-loop.js';
import type { Database } from '../../infra/db/database.js';
import { ensureTokenPool } from './sql/ensure-token-pool.js';
import { createTokensService, type TokensDeps } from './tokens.service.js';

// Due leases are closed in the history within a second of their end; correctness never waits for it.
const EXPIRY_SWEEP_MS = 250;

/** Before a process serves: the pool exists at its configured size, made once at the first start. */
export async function preparePool(database: Database, size: number): Promise<void> {
  // A large pool takes longer to make than any request may take.
  await database.withoutTimeouts((db) => ensureTokenPool(db, size));
}

/** In worker processes: the sweep that closes due leases as `expired` and announces them. */
export function poolWork(deps: TokensDeps): BackgroundWork {
  return {
    start: () => {
      const tokens = createTokensService(deps);
      return startLoop('lease expiry sweep', () => tokens.expireDue(), deps.logger, EXPIRY_SWEEP_MS);
    },
  };
}
