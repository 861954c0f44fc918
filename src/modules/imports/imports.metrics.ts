import type { Registry } from 'prom-client';
import { userImports } from '../../infra/db/schema.js';
import { counter, type DatabaseGauges } from '../../infra/metrics/metrics.js';
import { registerStatusGauge } from '../../infra/metrics/status-gauge.js';

/** Imports by status, read from the database at each scrape. */
export function registerImportsGauge(registry: Registry, gauges: DatabaseGauges): void {
  registerStatusGauge(registry, gauges, { name: 'tokenpool_imports', help: 'Imports by status.' }, userImports.status);
}

/** Rows this process committed, by outcome; their rate is the import speed. */
export function importRowsCounter(registry: Registry) {
  return counter(registry, {
    name: 'tokenpool_import_rows_total',
    help: 'Imported rows committed, by outcome (created, duplicate, invalid).',
    labelNames: ['outcome'],
  });
}
