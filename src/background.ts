import type { Deps } from './deps.js';
import type { BackgroundWork } from './infra/background-work.js';
import { accountEmailWork } from './modules/auth/auth.background.js';
import { importWork } from './modules/imports/imports.background.js';
import { poolWork } from './modules/tokens/tokens.background.js';
import { webhookWork } from './modules/webhooks/webhooks.background.js';

/** Every module's background work, bound to the dependencies; worker processes run it. */
export function backgroundWork(deps: Deps): BackgroundWork[] {
  const backoff = { backoffMs: deps.config.JOB_BACKOFF_MS, maxBackoffMs: deps.config.JOB_MAX_BACKOFF_MS };
  return [accountEmailWork(deps, backoff), importWork(deps, backoff), poolWork(deps), webhookWork(deps, backoff)];
}
