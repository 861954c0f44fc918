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
      const values = await within(
        read().catch(() => undefined),
        SCRAPE_READ_TIMEOUT_MS,
        undefined,
      );
      for (const { labels, value } of values ?? []) this.set(labels, value);
    },
  });
}
