import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The Prometheus rules and the Grafana dashboard that ship in ops/, checked with Prometheus's own
// tool: CI installs Debian's prometheus package; a machine without it skips these checks.
const OPS = new URL('../ops/', import.meta.url).pathname;
const hasPromtool = !spawnSync('promtool', ['--version']).error || Boolean(process.env.CI);

function promtool(args: string[], cwd = OPS) {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

interface Panel {
  title: string;
  targets: Array<{ expr: string }>;
}

describe.runIf(hasPromtool)('ops/', () => {
  it('has alert and recording rules that promtool accepts, and whose unit tests pass', () => {
    const checked = promtool(['check', 'rules', 'prometheus/rules.yml']);
    expect(checked.status, checked.output).toBe(0);
    const tested = promtool(['test', 'rules', 'prometheus/rules.test.yml']);
    expect(tested.status, tested.output).toBe(0);
    expect(tested.output).toContain('SUCCESS');
  });

  it('has a Grafana dashboard whose every query parses, on series the service exports or the rules record', async () => {
    const dashboard = JSON.parse(await readFile(join(OPS, 'grafana/tokenpool.json'), 'utf8')) as { panels: Panel[] };
    const queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ panel, expr: target.expr })));
    expect(queries.length).toBeGreaterThanOrEqual(dashboard.panels.length);
    const rules = await readFile(join(OPS, 'prometheus/rules.yml'), 'utf8');
    for (const { panel, expr } of queries) {
      const names = expr.match(/\btokenpool[_:][a-z0-9_:]+/g) ?? [];
      expect(names.length, panel.title).toBeGreaterThan(0);
      // A recorded series must be recorded by the shipped rules.
      for (const name of names.filter((n) => n.includes(':'))) expect(rules, panel.title).toContain(`record: ${name}`);
    }
    // promtool parses expressions in rule files: one recording rule per query.
    const dir = await mkdtemp(join(tmpdir(), 'tokenpool-grafana-'));
    try {
      const file = join(dir, 'queries.yml');
      const lines = queries.map(
        ({ expr }, index) => `      - record: panel_query_${index}\n        expr: ${JSON.stringify(expr)}`,
      );
      await writeFile(file, `groups:\n  - name: grafana\n    rules:\n${lines.join('\n')}\n`);
      const checked = promtool(['check', 'rules', file], dir);
      expect(checked.status, checked.output).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
