import http from 'node:http';

export interface LoadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** A fresh body for each request. */
  body?: () => string;
  connections: number;
  durationMs: number;
  warmupMs: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function once(agent: http.Agent, target: URL, options: LoadOptions): Promise<number> {
  return new Promise((resolve) => {
    const payload = options.body?.();
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

/**
 * A closed-loop load: `connections` clients, each sending its next request as soon as the last
 * one is answered. Latencies of the warm-up are dropped.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
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
