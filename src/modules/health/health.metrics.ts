import type { Registry } from 'prom-client';
import { readAtScrape } from '../../infra/metrics/metrics.js';
import type { DependencyPings } from './dependency-pings.js';

/** 1 for each dependency that answered its ping at this scrape, 0 for one that did not. */
export function registerDependencyGauge(registry: Registry, pings: DependencyPings): void {
  readAtScrape(
    registry,
    {
      name: 'tokenpool_dependency_up',
      help: 'Whether a dependency answered at this scrape.',
      labelNames: ['dependency'],
    },
    async () =>
      Promise.all(
        Object.entries(pings).map(async ([dependency, ping]) => ({
          labels: { dependency },
          value: await (ping as () => Promise<unknown>)().then(
            () => 1,
            () => 0,
          ),
        })),
      ),
  );
}
