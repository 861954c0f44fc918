import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
// Types only: database.ts runs this module from its migrate().
import type { Db } from './database.js';

/** Every module's SQL function sources: `modules/<module>/functions/<name>.sql`, beside its TypeScript. */
const MODULES = new URL('../../modules/', import.meta.url).pathname;

interface FunctionSource {
  /** `<module>/<file>`: the key its applied hash is kept under. */
  file: string;
  text: string;
  sha256: string;
}

async function readFunctionSources(): Promise<FunctionSource[]> {
  const sources: FunctionSource[] = [];
  for (const module of (await readdir(MODULES, { withFileTypes: true })).filter((entry) => entry.isDirectory())) {
    const dir = join(MODULES, module.name, 'functions');
    const files = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const name of files.filter((file) => file.endsWith('.sql')).sort()) {
      const text = await readFile(join(dir, name), 'utf8');
      sources.push({ file: `${module.name}/${name}`, text, sha256: createHash('sha256').update(text).digest('hex') });
    }
  }
  return sources;
}

/**
 * Applies every SQL function source whose text changed since it was last applied, after the
 * migrations: a function's current body lives in one file of the module that owns it (`CREATE OR
 * REPLACE`), not in a new copy in a migration. Run where migrations run (one process at a time);
 * answers how many sources it applied.
 */
export async function applySqlFunctions(db: Db): Promise<number> {
  const { rows } = (await db.execute(sql`select file, sha256 from sql_function_sources`)) as unknown as {
    rows: Array<{ file: string; sha256: string }>;
  };
  const applied = new Map(rows.map((row) => [row.file, row.sha256]));
  const changed = (await readFunctionSources()).filter((source) => applied.get(source.file) !== source.sha256);
  if (changed.length === 0) return 0;
  await db.transaction(async (tx) => {
    for (const source of changed) {
      await tx.execute(sql.raw(source.text));
      await tx.execute(
        sql`insert into sql_function_sources (file, sha256) values (${source.file}, ${source.sha256})
            on conflict (file) do update set sha256 = excluded.sha256, applied_at = now()`,
      );
    }
  });
  return changed.length;
}
