import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LoadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** Each request's body is `{"userId": <a new random UUID>}`. */
  freshUserId?: boolean;
  connections: number;
  durationMs: number;
  warmupMs: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Answers by status; `0` counts requests that got none (a refused or broken connection, a timeout). */
  statuses: Record<string, number>;
}

/** Which load generator runs: wrk when it is installed, else the closed loop in this process. */
export type LoadGenerator = 'wrk' | 'node';

async function detectGenerator(): Promise<LoadGenerator> {
  try {
    await run('wrk', ['--version']);
    return 'wrk';
  } catch (error) {
    // wrk prints its version and exits 1; only a missing binary is a failure.
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'node' : 'wrk';
  }
}

// Looked for once per benchmark run, not once per row.
let detected: Promise<LoadGenerator> | undefined;
export function loadGenerator(): Promise<LoadGenerator> {
  detected ??= detectGenerator();
  return detected;
}

/**
 * A closed-loop load: `connections` clients, each sending its next request as soon as the last one
 * is answered; latencies of the warm-up are dropped. wrk (C, a few percent of one core) leaves the
 * two cores of this machine to the service and PostgreSQL, as pgbench does for the baseline; the
 * loop in this process costs the service about a quarter of a core at 2,000 requests a second.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  return (await loadGenerator()) === 'wrk' ? runWrk(options) : runNodeLoad(options);
}

async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const script = new URL('./wrk-load.lua', import.meta.url).pathname;
  const headers = {
    ...options.headers,
    ...(options.freshUserId ? { 'content-type': 'application/json' } : {}),
  };
  const wrkArgs = (ms: number) => [
    '-t2',
    `-c${options.connections}`,
    `-d${Math.max(1, Math.round(ms / 1000))}s`,
    '-s',
    script,
    ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    options.url,
    '--',
    options.method ?? 'GET',
    options.freshUserId ? 'fresh-user-id' : '',
  ];
  await run('wrk', wrkArgs(options.warmupMs));
  const { stdout } = await run('wrk', wrkArgs(options.durationMs), { maxBuffer: 1024 * 1024 });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`could not read wrk output:\n${stdout}`);
  const result = JSON.parse(line.slice('RESULT '.length)) as {
    requests: number;
    seconds: number;
    p50: number;
    p99: number;
    errors: number;
    statuses: Record<string, number>;
  };
  return {
    requests: result.requests,
    rps: result.requests / result.seconds,
    p50: result.p50,
    p99: result.p99,
    statuses: result.errors > 0 ? { ...result.statuses, 0: result.errors } : result.statuses,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function once(agent: http.Agent, target: URL, options: LoadOptions): Promise<number> {
  return new Promise((resolve) => {
    const payload = options.freshUserId ? JSON.stringify({ userId: crypto.randomUUID() }) : undefined;
    const request = http.request(
      target,
      {
        agent,
        method: options.method ?? 'GET',
        headers: {
          ...options.headers,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', () => resolve(0));
    request.end(payload);
  });
}

async function runNodeLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const target = new URL(options.url);
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const end = measureFrom + options.durationMs;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const client = async () => {
    for (;;) {
      const sent = performance.now();
      if (sent >= end) return;
      const status = await once(agent, target, options);
      const done = performance.now();
      if (sent >= measureFrom) {
        latencies.push(done - sent);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, client));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: latencies.length / (options.durationMs / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    statuses,
  };
}
