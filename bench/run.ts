import { importBenchmark } from './import.bench.js';
import { tokensBenchmark } from './tokens.bench.js';

// Benchmarks run on real PostgreSQL and Redis; these defaults are the ones of this machine's CI.
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const benchmarks: Record<string, () => Promise<string>> = {
  tokens: () => tokensBenchmark(databaseUrl, redisUrl),
  import: () => importBenchmark(databaseUrl, redisUrl),
};

const selected = process.argv.slice(2);
for (const name of selected.length > 0 ? selected : Object.keys(benchmarks)) {
  const run = benchmarks[name];
  if (!run) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(benchmarks).join(', ')}`);
  process.stdout.write(`${await run()}\n\n`);
}
