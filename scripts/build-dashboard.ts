import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { build } from 'esbuild';

// npm run build:dashboard: bundles dashboard/src into dist/dashboard with content-hashed names, so
// a browser may keep each file for good (a new build is a new name), and writes the page shell
// that names them. The shell itself is served `no-cache`.
const out = new URL('../dist/dashboard/', import.meta.url).pathname;
const result = await build({
  entryPoints: [new URL('../dashboard/src/main.tsx', import.meta.url).pathname],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
const named = (extension: string) => {
  const file = outputs.find((name) => name.startsWith('main-') && name.endsWith(extension));
  if (!file) throw new Error(`the dashboard build wrote no main-*${extension}`);
  return `/assets/${file}`;
};
const shell = await readFile(new URL('../dashboard/index.html', import.meta.url), 'utf8');
await writeFile(
  `${out}index.html`,
  shell.replace('/assets/main.css', named('.css')).replace('/assets/main.js', named('.js')),
);
