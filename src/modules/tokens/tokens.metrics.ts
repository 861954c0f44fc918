import type { Registry } from 'prom-client';
import { counter, type DatabaseGauges, readFromDatabase } from '../../infra/metrics/metrics.js';
import { countWaiters } from './sql/lease-waiters.js';
import { countTokens } from './sql/token-views.js';

/** The pool as the database has it, read at each scrape: tokens by state, and the requests waiting. */
export function registerPoolGauge(registry: Registry, gauges: DatabaseGauges): void {
  readFromDatabase(
    registry,
    gauges,
    {
      name: 'tokenpool_pool_tokens',
      help: 'Tokens of the pool by state, by the database clock.',
      labelNames: ['state'],
    },
    async (db) => {
      const { active, available } = await countTokens(db);
      return [
        { labels: { state: 'active' }, value: active },
        { labels: { state: 'available' }, value: available },
      ];
    },
  );
  readFromDatabase(
    registry,
    gauges,
    { name: 'tokenpool_lease_waiters', help: 'Lease requests waiting for a token (onFull "wait"), in every process.' },
    async (db) => [{ labels: {}, value: await countWaiters(db) }],
  );
}

/** What this process did to the pool: leases by outcome, lease ends by reason. */
export function tokenCounters(registry: Registry) {
  return {
    leases: counter(registry, {
      name: 'tokenpool_leases_total',
      help: "Lease requests answered: a free or expired token (created), an eviction (evicted), the holder's own lease again (same), a full pool for one that would not evict (refused).",
      labelNames: ['outcome'],
    }),
    leaseEnds: counter(registry, {
      name: 'tokenpool_lease_ends_total',
      help: 'Leases ended, by reason (expired, released, evicted, cleared).',
      labelNames: ['reason'],
    }),
  };
}
