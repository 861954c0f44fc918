import { availableParallelism } from 'node:os';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { createWorkLimiter, SaturatedError } from '../../infra/concurrency/work-limiter.js';
import { errors } from '../../infra/http/errors.js';

// OWASP's argon2id baseline: 19 MiB of memory, 2 passes, 1 lane.
// `Algorithm` is a const enum, which isolated modules cannot read: 2 is its Argon2id.
const ARGON2_OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

// One hash per core at a time, and a bounded line behind them (about a second and a half of work
// on two cores): a flood of logins or registrations gets 503s, not every request stuck behind it.
const cores = availableParallelism();
const argon2 = createWorkLimiter({ running: cores, waiting: 64 * cores });

async function limited<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await argon2.run(work);
  } catch (error) {
    if (error instanceof SaturatedError) {
      throw errors.unavailable('Too many passwords are being checked at once; try again in a moment.');
    }
    throw error;
  }
}

export function hashPassword(password: string): Promise<string> {
  return limited(() => hash(password, ARGON2_OPTIONS));
}

// Verified against when the account is unknown or has no password, so that a wrong e-mail and a
// wrong password take the same time to answer.
let decoyHash: Promise<string> | undefined;

export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  if (passwordHash === null) {
    decoyHash ??= hash('decoy password that matches nothing', ARGON2_OPTIONS);
    const decoy = await decoyHash;
    await limited(() => verify(decoy, password));
    return false;
  }
  return limited(() => verify(passwordHash, password));
}
