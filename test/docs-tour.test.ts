import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceProcess, startProcess } from './helpers/processes.js';

// The README's tour and the shell blocks of docs/using.md, pasted into bash in order as a newcomer
// would, against `npm start`'s embedded service with the first command's admin: each must run.
const ROOT = new URL('../', import.meta.url).pathname;
const STARTED_AT = 'http://localhost:3000';

/** The ```sh blocks of `markdown`, from the heading `from` on (the whole file without one). */
function shellBlocks(markdown: string, from?: string): string[] {
  const start = from === undefined ? 0 : markdown.indexOf(`\n${from}\n`);
  if (start < 0) throw new Error(`no heading ${from}`);
  return [...markdown.slice(start).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string);
}

describe('the tour in the README and docs/using.md', () => {
  let dir: string;
  let service: ServiceProcess;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tokenpool-tour-'));
    await cp(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
    service = await startProcess('serve', {
      NODE_ENV: 'test',
      DATA_DIR: join(dir, 'data'),
      ADMIN_EMAIL: 'admin@example.com',
      ADMIN_PASSWORD: 'change-me-now',
    });
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs in bash, block after block, and shows what it says it shows', { timeout: 90_000 }, async () => {
    const blocks = [
      ...shellBlocks(await readFile(join(ROOT, 'README.md'), 'utf8'), '## API tour'),
      ...shellBlocks(await readFile(join(ROOT, 'docs/using.md'), 'utf8')),
    ];
    expect(blocks.length).toBeGreaterThan(8);
    // As pasted into a terminal: a stream's curl ends by its --max-time (exit 28) and bash goes on.
    const script = [
      ...blocks.map((block, index) => `echo "=== block ${index + 1}"\n${block.replaceAll(STARTED_AT, service.url)}`),
      'echo "=== done"',
    ].join('\n');
    // Standard input not a socket: bash would take itself for a remote shell and read ~/.bashrc.
    const bash = spawn('bash', ['-c', script], {
      cwd: dir,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [stdout, stderr, [code]] = await Promise.all([
      text(bash.stdout),
      text(bash.stderr),
      once(bash, 'exit') as Promise<[number | null]>,
    ]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toContain('=== done');
    // Nothing a block runs fails: no jq given something that is not JSON, no file missing, no curl
    // error but a stream's timeout.
    expect(stderr).not.toMatch(/jq: error|parse error|No such file|curl: \((?!28\))/);
    // What the blocks' comments promise.
    expect(stdout).toContain('event: released');
    expect(stdout).toMatch(/"status": "completed"/);
    expect(stdout.match(/^204$/gm)?.length).toBeGreaterThanOrEqual(4);
    expect(stdout).toMatch(/"tokenId": "[0-9a-f-]{36}"/);
    // The waiting lease was served by the clear two seconds later, not at once.
    expect(stderr).toMatch(/real\s+0m[2-9]\.\d+s/);
  });
});
