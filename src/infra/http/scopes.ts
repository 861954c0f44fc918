import { errors } from './errors.js';
import type { ApiKeyGrant, Principal, Role } from './principal.js';

/** What an API key may be allowed: each route that takes keys names the one it needs. */
export const SCOPES = [
  'tokens:read',
  'tokens:lease',
  'pools:admin',
  'users:read',
  'imports:write',
  'audit:read',
] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes that only admins' keys may hold: each opens routes only admins may call. */
const ADMIN_SCOPES: readonly Scope[] = ['pools:admin', 'users:read', 'imports:write'];

/** Whether an account of this role may hold a key with this scope: a key never does more than its owner. */
export function roleAllowsScope(role: Role, scope: Scope): boolean {
  return role === 'admin' || !ADMIN_SCOPES.includes(scope);
}

/**
 * The pool every route serves today. Pools are not yet resources of their own, so a key limited to
 * pools may use the token routes only when `default` is among them.
 */
export const DEFAULT_POOL = 'default';

/**
 * Refuses a caller whose key is limited to pools that do not include `pool`. The one place the
 * limit is checked: routes of named pools will call it with their pool.
 */
export function requirePoolAccess(caller: Principal, pool: string): void {
  const pools = caller.apiKey?.pools;
  if (pools && !pools.includes(pool)) throw errors.forbidden(`This API key may not use the pool "${pool}".`);
}

/** Scopes whose routes work on a pool's tokens. */
const POOL_SCOPES: readonly Scope[] = ['tokens:read', 'tokens:lease', 'pools:admin'];

/**
 * A key's caller as a route needing `scope` (none: the route refuses keys) sees it: refused
 * without the scope or outside its pools, else its owner with the role it acts with there. On the
 * token routes an admin's key acts for its owner's leases only, unless it holds `pools:admin`
 * too; the other admin scopes are themselves the grant of what their routes let admins do.
 */
export function narrowToKey(
  caller: Principal & { apiKey: ApiKeyGrant },
  scope: Scope | undefined,
  pool: string,
): Principal {
  if (!scope) throw errors.apiKeyRefused();
  const { scopes } = caller.apiKey;
  if (!scopes.includes(scope)) throw errors.scopeMissing(scope);
  if (POOL_SCOPES.includes(scope)) requirePoolAccess(caller, pool);
  const onTokens = scope === 'tokens:read' || scope === 'tokens:lease';
  const actsAsAdmin = caller.role === 'admin' && !(onTokens && !scopes.includes('pools:admin'));
  return { ...caller, role: actsAsAdmin ? 'admin' : 'user' };
}
