import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates (or re-creates) a scratch database and answers its URL. */
export async function freshDatabase(base: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`drop database if exists "${name}" with (force)`);
  await admin.query(`create database "${name}"`);
  await admin.end();
  return databaseUrl(base, name);
}

export async function dropDatabase(base: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`drop database if exists "${name}" with (force)`);
  await admin.end();
}

export async function psql(url: string, command: string): Promise<string> {
  const { stdout } = await run('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', command], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

export interface PgbenchResult {
  tps: number;
  latencyMs: number;
}

/** Runs pgbench with a custom script; prepared statements, so the baseline is the best case. */
export async function pgbench(
  url: string,
  scriptFile: string,
  clients: number,
  seconds: number,
): Promise<PgbenchResult> {
  const { stdout } = await run(
    'pgbench',
    ['-n', '-M', 'prepared', '-c', String(clients), '-j', '2', '-T', String(seconds), '-f', scriptFile, url],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const tps = Number(stdout.match(/tps = ([\d.]+)/)?.[1]);
  const latencyMs = Number(stdout.match(/latency average = ([\d.]+) ms/)?.[1]);
  if (!Number.isFinite(tps)) throw new Error(`could not read pgbench output:\n${stdout}`);
  return { tps, latencyMs };
}
