import { statSync } from 'node:fs';
import { cp } from 'node:fs/promises';

// The build: tsc compiles the TypeScript; the SQL function sources (src/modules/*/functions/*.sql)
// go beside it, where dist/infra/db/sql-functions.js reads them.
await cp(new URL('../src/modules', import.meta.url), new URL('../dist/modules', import.meta.url), {
  recursive: true,
  filter: (source) => source.endsWith('.sql') || statSync(source).isDirectory(),
});
