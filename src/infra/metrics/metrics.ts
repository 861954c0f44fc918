import {
  type Aggregator,
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  type GaugeConfiguration,
  Registry,
} from 'prom-client';
import { within } from '../concurrency/deadline.js';
import type { Db } from '../db/database.js';

/**
 * Every metric's name starts with this; names follow Prometheus's conventions (base units,
 * `_total` on counters) so `promtool check metrics` passes.
 */
export const METRIC_PREFIX = 'tokenpool_';

/** One registry per runtime: tests build many runtimes in one process, each with its own metrics. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  // prom-client names these gauges `_total`, which Prometheus keeps for counters; the same numbers
  // (handles, requests, resources by type) are in the series without the suffix.
  for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
    registry.removeSingleMetric(`${METRIC_PREFIX}nodejs_${name}`);
  }
  return registry;
}

/** The counter of that name in the registry, made on first use: services may be built twice. */
export function counter<L extends string>(registry: Registry, config: CounterConfiguration<L>): Counter<L> {
  const existing = registry.getSingleMetric(config.name);
  if (existing) return existing as Counter<L>;
  return new Counter({ ...config, registers: [registry] });
}

export function gauge<L extends string>(registry: Registry, config: GaugeConfiguration<L>): Gauge<L> {
  const existing = registry.getSingleMetric(config.name);
  if (existing) return existing as Gauge<L>;
  return new Gauge({ ...config, registers: [registry] });
}

/** How long a scrape waits for a value it reads from a dependency. */
const SCRAPE_READ_TIMEOUT_MS = 1000;

/**
 * A gauge read from the database (or another dependency) at scrape time, so every process reports
 * the same truth; across processes it is aggregated as one value, not summed. A read that fails or
 * takes too long leaves the gauge empty for that scrape rather than stale or slow.
 */
export function readAtScrape<L extends string>(
  registry: Registry,
  config: Omit<GaugeConfiguration<L>, 'collect' | 'aggregator'>,
  read: () => Promise<Array<{ labels: Partial<Record<L, string>>; value: number }>>,
): void {
  // Idempotent, like counter() and gauge().
  if (registry.getSingleMetric(config.name)) return;
  new Gauge<L>({
    ...config,
    registers: [registry],
    aggregator: 'first' as Aggregator,
    async collect() {
      this.reset();
      // reset() leaves a gauge without labels at 0, which would claim a value nobody read.
      if (!config.labelNames?.length) this.remove({});
      const values = await within(
        read().catch(() => undefined),
        SCRAPE_READ_TIMEOUT_MS,
        undefined,
      );
      for (const { labels, value } of values ?? []) this.set(labels, value);
    },
  });
}

/**
 * What gauges read from the database are read with: the database, and whether this process is
 * the one of its deployment that exports them (database-gauges.ts), so that a sum over every
 * scraped process counts each token, import and job once.
 */
export interface DatabaseGauges {
  readonly db: Db;
  readonly exporting: () => Promise<boolean>;
}

/** A gauge read from the database at scrape time, by the one process that exports such gauges. */
export function readFromDatabase<L extends string>(
  registry: Registry,
  gauges: DatabaseGauges,
  config: Omit<GaugeConfiguration<L>, 'collect' | 'aggregator'>,
  read: (db: Db) => Promise<Array<{ labels: Partial<Record<L, string>>; value: number }>>,
): void {
  readAtScrape(registry, config, async () => ((await gauges.exporting()) ? read(gauges.db) : []));
}
