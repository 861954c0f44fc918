import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { text } from 'node:stream/consumers';
import type { EnvInput } from '../../src/config.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  /** Sends a signal and waits for the exit; answers the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Everything a child process writes, stdout and stderr interleaved, as it has arrived so far. */
export function collectOutput(child: ChildProcess): () => string {
  let output = '';
  const add = (chunk: Buffer) => {
    output += chunk;
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => output;
}

/** Runs `node dist/cli.js <args>` to completion. */
export async function runCli(
  args: string[],
  env: EnvInput,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env } });
  const [stdout, stderr, [code]] = await Promise.all([
    text(child.stdout),
    text(child.stderr),
    once(child, 'exit') as Promise<[number | null]>,
  ]);
  return { code, stdout, stderr };
}

/** Starts a real service process (`serve`, `api` or `worker`) and, unless it is a worker, waits until it is ready. */
export async function startProcess(
  command: 'serve' | 'api' | 'worker',
  env: EnvInput,
  // A worker is known to be up by its 'started' line, so it needs info; benchmarks want less.
  logLevel = 'info',
): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, command], {
    // A worker serves its metrics on WORKER_PORT, an API on PORT: either way, a free one. A `serve`
    // group forks a job process of its own, which must not share the API's port.
    env: {
      PATH: process.env.PATH,
      ...env,
      PORT: String(port),
      WORKER_PORT: String(command === 'serve' ? await freePort() : port),
      HOST: '127.0.0.1',
      LOG_LEVEL: logLevel,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child);
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const service: ServiceProcess = {
    child,
    url,
    output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
  const started =
    command === 'worker'
      ? waitFor(
          () => output().includes('"msg":"started"'),
          20_000,
          () => `worker did not start:\n${output()}`,
        )
      : waitFor(
          async () => {
            if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}:\n${output()}`);
            return fetch(`${url}/health/ready`).then(
              (response) => response.ok,
              () => false,
            );
          },
          30_000,
          () => `${command} did not become ready:\n${output()}`,
        );
  // A process that never came up is nobody's to stop: it must not outlive the test that started it.
  await started.catch(async (error: unknown) => {
    await service.stop('SIGKILL');
    throw error;
  });
  return service;
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  message: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
