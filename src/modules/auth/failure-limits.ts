import type { Config } from '../../config.js';
import { errors } from '../../infra/http/errors.js';
import type { Principal } from '../../infra/http/principal.js';
import type { RateLimiter, RateLimitResult } from '../../infra/rate-limit/rate-limiter.js';

const RATE_WINDOW_MS = 60_000;
/** Failed logins from one IP across e-mails, and for one e-mail across IPs, per LOGIN_RATE_LIMIT. */
const LOGIN_IP_FACTOR = 3;
/** How much slower a login for an e-mail under attack from many addresses answers. */
const LOGIN_SLOWDOWN_MS = 1000;
/** Wrong current passwords allowed in CHANGE_WINDOW_MS, per session and per user. */
const CHANGE_LIMIT = { session: 5, user: 10 };
const CHANGE_WINDOW_MS = 15 * 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A 429 whose Retry-After waits for the last of the refusing windows. */
export const refuse = (...results: Array<{ retryAfterMs: number }>) =>
  errors.rateLimited(Math.max(...results.map((r) => r.retryAfterMs)));

const allowedOrRefuse = (result: RateLimitResult) => {
  if (!result.allowed) throw refuse(result);
};

/**
 * Password guesses, each counted as a failure *before* its password is checked and forgiven after
 * when it was right: attempts sent at once find the slots taken by the ones before them, so a burst
 * checks no more passwords than the limit, in every process sharing the counters.
 */
export function createFailureLimits(rateLimiter: RateLimiter, config: Pick<Config, 'LOGIN_RATE_LIMIT'>) {
  /**
   * Runs `check` on slots already taken in `keys`: a wrong password keeps them; a right one, or a
   * check that never answered (a database away, hashing saturated), gives them back.
   */
  async function settle(keys: string[], check: () => Promise<boolean>): Promise<boolean> {
    let failed = false;
    try {
      failed = !(await check());
      return !failed;
    } finally {
      if (!failed) await rateLimiter.release(keys);
    }
  }

  return {
    /**
     * Login failures, counted where they cannot be turned against the owner: per (e-mail, IP) pair
     * and per IP, which refuse; per e-mail across every IP, which only slows the answer, so guesses
     * spread over many addresses are slowed without the owner ever being locked out. A success
     * clears the pair's failures.
     */
    async login(email: string, ip: string, check: () => Promise<boolean>): Promise<boolean> {
      const keys = {
        pair: `login-failed:pair:${ip}:${email}`,
        ip: `login-failed:ip:${ip}`,
        email: `login-failed:email:${email}`,
      };
      const wide = LOGIN_IP_FACTOR * config.LOGIN_RATE_LIMIT;
      allowedOrRefuse(
        await rateLimiter.reserve([
          { key: keys.pair, limit: config.LOGIN_RATE_LIMIT, windowMs: RATE_WINDOW_MS },
          { key: keys.ip, limit: wide, windowMs: RATE_WINDOW_MS },
        ]),
      );
      const byEmail = await rateLimiter.hit(keys.email, wide, RATE_WINDOW_MS);
      if (!byEmail.allowed) await sleep(LOGIN_SLOWDOWN_MS);
      const passed = await settle([keys.pair, keys.ip, keys.email], check);
      if (passed) await rateLimiter.reset(keys.pair);
      return passed;
    },

    /** Wrong current passwords, per session and per user: a stolen access token cannot guess on. */
    async changePassword(principal: Principal, check: () => Promise<boolean>): Promise<boolean> {
      const keys = {
        session: `change-password-failed:session:${principal.sessionId}`,
        user: `change-password-failed:user:${principal.userId}`,
      };
      allowedOrRefuse(
        await rateLimiter.reserve([
          { key: keys.session, limit: CHANGE_LIMIT.session, windowMs: CHANGE_WINDOW_MS },
          { key: keys.user, limit: CHANGE_LIMIT.user, windowMs: CHANGE_WINDOW_MS },
        ]),
      );
      return settle([keys.session, keys.user], check);
    },
  };
}
