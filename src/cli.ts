#!/usr/bin/env node
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger } from './infra/logger.js';
import { ensureAdmin } from './modules/auth/admin-account.js';
import { runProcessGroup } from './process-group.js';
import { createRuntime, type Runtime } from './runtime.js';
import { logStartNotice, noteLoopbackOnly } from './start-notice.js';

const USAGE = `usage: tokenpool <command> [--no-migrate]

commands:
  serve          API and workers in one process (what npm start runs)
  api            the HTTP API only (jobs run in-process unless REDIS_URL is set)
  worker         background jobs only (needs REDIS_URL)
  migrate        run pending database migrations and exit
  create-admin   create or promote an admin: --email E (or ADMIN_EMAIL), password from ADMIN_PASSWORD or --password`;

type Command = 'serve' | 'api' | 'worker' | 'migrate' | 'create-admin';
const COMMANDS: Command[] = ['serve', 'api', 'worker', 'migrate', 'create-admin'];

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'no-migrate': { type: 'boolean', default: false },
      email: { type: 'string' },
      password: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0] as Command | undefined;
  if (values.help || !command || !COMMANDS.includes(command)) fail(USAGE);

  let config: Config;
  try {
    config = loadConfig(process.env, { adminPair: command !== 'create-admin' });
  } catch (error) {
    if (error instanceof ConfigError) fail(`configuration error: ${error.message}`);
    throw error;
  }
  if (command === 'worker' && !config.REDIS_URL)
    fail('configuration error: REDIS_URL must be set to run a separate worker');

  // JSON for collectors, files and pipes; readable lines for a person at a terminal, outside production.
  const pretty = process.stdout.isTTY && config.NODE_ENV !== 'production';
  const logger = createLogger(config.LOG_LEVEL, pretty ? 'pretty' : undefined);
  // Several HTTP processes: this one supervises them and serves nothing itself.
  if ((command === 'api' || command === 'serve') && config.WEB_CONCURRENCY > 1 && cluster.isPrimary) {
    const http = Array.from({ length: config.WEB_CONCURRENCY }, () => 'api' as const);
    const commands = command === 'serve' ? [...http, 'worker' as const] : http;
    return runProcessGroup({
      commands,
      args: process.argv.slice(3),
      logger,
      shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    });
  }
  const runtime = await createRuntime(config, { logger, migrate: !values['no-migrate'] }).catch((error: unknown) => {
    // A pool made at another size is refused like any bad setting.
    if (error instanceof ConfigError) fail(`configuration error: ${error.message}`);
    throw error;
  });

  // createRuntime has migrated and logged how many migrations it applied.
  if (command === 'migrate') return runtime.close();
  if (command === 'create-admin') {
    const email = values.email ?? config.ADMIN_EMAIL;
    const password = values.password ?? config.ADMIN_PASSWORD;
    if (!email || !password) {
      await runtime.close();
      fail('create-admin needs --email (or ADMIN_EMAIL) and ADMIN_PASSWORD (or --password)');
    }
    const outcome = await ensureAdmin(runtime.database.db, { email, password, resetPassword: true });
    logger.info({ email, outcome }, 'admin account ready');
    return runtime.close();
  }

  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    await ensureAdmin(runtime.database.db, {
      email: config.ADMIN_EMAIL,
      password: config.ADMIN_PASSWORD,
      resetPassword: false,
    });
  }
  // Without Redis there is no shared queue, so whoever enqueues a job must also run it.
  if (command !== 'api' || !config.REDIS_URL) await runtime.startWorkers();
  // The API's HTTP stack is loaded only by the processes that serve it; a worker serves its metrics
  // and health on a port of its own.
  const app =
    command === 'worker'
      ? await (await import('./worker-app.js')).buildWorkerApp(runtime)
      : await (await import('./app.js')).buildApp(runtime);
  await app.listen({ port: command === 'worker' ? config.WORKER_PORT : config.PORT, host: config.HOST });
  logger.info({ command }, 'started');
  noteLoopbackOnly(runtime);
  onShutdown(runtime, config.SHUTDOWN_TIMEOUT_MS, async () => app.close());
  if (command !== 'worker') await logStartNotice(runtime);
}

function onShutdown(runtime: Runtime, timeoutMs: number, closeServer: () => Promise<unknown>): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      runtime.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    runtime.logger.info({ signal }, 'shutting down');
    // A stuck request or job, or a dependency that stopped answering, must not keep it alive.
    setTimeout(() => {
      runtime.logger.error({ timeoutMs }, 'shutdown took too long: exiting');
      process.exit(1);
    }, timeoutMs).unref();
    // The server stops accepting and finishes its requests, then the queue finishes its jobs.
    await closeServer();
    await runtime.close();
    runtime.logger.info('stopped');
    // The channel to the group's supervisor would keep this process alive on its own.
    if (cluster.isWorker) process.exit(0);
  };
  // In a WEB_CONCURRENCY group the supervisor alone answers SIGINT (a terminal's Ctrl+C reaches the
  // whole group) and passes a SIGTERM on; a process whose supervisor is gone stops too.
  const signals = cluster.isWorker ? (['SIGTERM'] as const) : (['SIGTERM', 'SIGINT'] as const);
  for (const signal of signals) process.on(signal, (s) => void stop(s));
  if (cluster.isWorker) {
    process.on('SIGINT', () => {});
    process.on('disconnect', () => void stop('disconnect'));
  }
}

main().catch((error: unknown) => {
  createLogger('error').fatal({ err: error }, 'failed to start');
  process.exitCode = 1;
});
