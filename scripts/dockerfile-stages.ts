import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

// Just enough of a Dockerfile to replay its stages where no Docker engine runs: each stage's
// WORKDIR /app is a directory of its own, COPY copies from the build context or from another
// stage's directory, RUN runs in the stage's directory. It reads this repository's Dockerfile and
// refuses what it does not understand rather than guessing.

interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  instructions: Instruction[];
}

/** The stages in order; the last one is the image. Comments, blank lines and `\` continuations are folded away. */
export function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', args = ''] = line.match(/^(\S+)\s+(.*)$/) ?? [];
    if (op.toUpperCase() === 'FROM') {
      stages.push({ name: args.match(/\sAS\s+(\S+)/i)?.[1] ?? `stage${stages.length}`, instructions: [] });
    } else if (op.toUpperCase() !== 'ARG') {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile: ${op} before the first FROM`);
      stage.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

/**
 * The build context as `docker build` would send it, for a `.dockerignore` written as an allow
 * list: `*`, then one `!path` per file or folder let in.
 */
export async function copyContext(repo: string, into: string): Promise<void> {
  const patterns = (await readFile(join(repo, '.dockerignore'), 'utf8'))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (patterns[0] !== '*' || patterns.slice(1).some((pattern) => !pattern.startsWith('!'))) {
    throw new Error('.dockerignore: expected `*` and then `!path` lines only');
  }
  await mkdir(into, { recursive: true });
  for (const pattern of patterns.slice(1)) {
    const path = pattern.slice(1).replace(/\/$/, '');
    await cp(join(repo, path), join(into, path), { recursive: true });
  }
}

/** The stage's HEALTHCHECK command, from its exec form: `HEALTHCHECK [--option…] CMD ["…", …]`. */
export function healthcheckCommand(stage: Stage): string[] {
  const args = stage.instructions.find(({ op }) => op === 'HEALTHCHECK')?.args;
  const json = args?.match(/\bCMD\s+(\[.*\])$/)?.[1];
  if (!json) throw new Error(`Dockerfile: stage ${stage.name} has no HEALTHCHECK CMD [...]`);
  return JSON.parse(json) as string[];
}

export interface ReplayOptions {
  /** The stage's `/app`. */
  dir: string;
  context: string;
  /** Directories of the stages replayed so far, by name. */
  stageDirs: ReadonlyMap<string, string>;
  /** Whether RUN lines run; the image's own (apt-get, chown) need root and a base image. */
  run: boolean;
  log: (line: string) => void;
}

/** Replays one stage; answers the environment its ENV lines set. */
export async function replayStage(stage: Stage, options: ReplayOptions): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  await mkdir(options.dir, { recursive: true });
  for (const { op, args } of stage.instructions) {
    if (op === 'WORKDIR' && args !== '/app') throw new Error(`Dockerfile: WORKDIR ${args}: only /app is replayed`);
    if (op === 'ENV') {
      for (const pair of args.split(/\s+/)) {
        const [key = '', value = ''] = pair.split('=');
        env[key] = value;
      }
    }
    if (op === 'COPY') {
      options.log(`  ${stage.name}: COPY ${args}`);
      await replayCopy(args, options);
    }
    if (op === 'RUN') {
      if (!options.run) {
        options.log(`  ${stage.name}: skipped RUN ${args}`);
        continue;
      }
      options.log(`  ${stage.name}: RUN ${args}`);
      await runShell(args, options.dir);
    }
  }
  return env;
}

async function replayCopy(args: string, { dir, context, stageDirs }: ReplayOptions): Promise<void> {
  const words = args.split(/\s+/);
  const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((word) => !word.startsWith('--'));
  const dest = paths.pop();
  if (!dest || paths.length === 0) throw new Error(`Dockerfile: COPY ${args}: no source`);
  const root = from === undefined ? context : stageDirs.get(from);
  if (!root) throw new Error(`Dockerfile: COPY ${args}: no stage named ${from}`);
  const target = join(dir, dest);
  for (const source of paths) {
    // Another stage's files are named by their path in it (/app/…); the context's relative to it.
    const relative = from === undefined ? source : source.replace(/^\/app\/?/, '');
    if (from !== undefined && relative === source) throw new Error(`Dockerfile: COPY ${args}: only /app is replayed`);
    const into = dest.endsWith('/') && relative !== '.' ? join(target, basename(relative)) : target;
    await cp(join(root, relative), into, { recursive: true, verbatimSymlinks: true });
  }
}

async function runShell(command: string, cwd: string): Promise<void> {
  const child = spawn('sh', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`RUN ${command} exited with ${code}:\n${output}`);
}
