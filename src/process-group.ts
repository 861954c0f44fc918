import cluster from 'node:cluster';
import type { Logger } from './infra/logger.js';
import { serveClusterMetrics } from './infra/metrics/cluster-metrics.js';

export interface ProcessGroupOptions {
  /** One entry per process: `api` for an HTTP process, `worker` for one that runs the jobs. */
  commands: Array<'api' | 'worker'>;
  /** What follows the command on each process's command line (`--no-migrate`). */
  args: string[];
  logger: Logger;
  shutdownTimeoutMs: number;
}

/** A process that died is started again after this pause, so a crash loop does not spin. */
const RESTART_DELAY_MS = 1000;

/**
 * `WEB_CONCURRENCY`: this process becomes a supervisor that runs the group — HTTP processes sharing
 * one port (node:cluster hands them the connections), plus a job process for `serve` — starts
 * another when one dies, answers their requests for the group's metrics, and on SIGTERM or SIGINT
 * stops them all, within `shutdownTimeoutMs`.
 */
export function runProcessGroup({ commands, args, logger, shutdownTimeoutMs }: ProcessGroupOptions): void {
  serveClusterMetrics();
  const roles = new Map<number, 'api' | 'worker'>();
  let stopping = false;

  const start = (command: 'api' | 'worker') => {
    cluster.setupPrimary({ args: [command, ...args] });
    const worker = cluster.fork();
    roles.set(worker.id, command);
    logger.info({ command, pid: worker.process.pid }, 'process started');
  };

  cluster.on('exit', (worker, code, signal) => {
    const command = roles.get(worker.id) ?? 'api';
    roles.delete(worker.id);
    if (stopping) {
      if (roles.size === 0) {
        logger.info('stopped');
        process.exit(0);
      }
      return;
    }
    logger.error({ command, pid: worker.process.pid, code, signal }, 'a process of the group died; starting another');
    setTimeout(() => {
      if (!stopping) start(command);
    }, RESTART_DELAY_MS);
  });

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ timeoutMs: shutdownTimeoutMs }, 'shutdown took too long: exiting');
      process.exit(1);
    }, shutdownTimeoutMs).unref();
    // Each process drains its own requests and jobs; a terminal's Ctrl+C reaches them too, and they
    // leave SIGINT to this supervisor (see cli.ts), so each hears one signal only.
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    if (roles.size === 0) process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, stop);
  for (const command of commands) start(command);
}
