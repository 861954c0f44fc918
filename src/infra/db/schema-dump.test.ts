import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS } from '../../modules/audit/audit.actions.js';
import { dumpMigratedSchema, SCHEMA_DUMP_PATH } from './schema-dump.js';

const SRC = new URL('../../', import.meta.url).pathname;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The action of every audit entry that SQL writes by itself, where TypeScript's types cannot see. */
function auditActionsInSql(text: string): string[] {
  const inserts = text.match(/insert into audit_logs[\s\S]*?(?:;|`)/gi) ?? [];
  return inserts.flatMap((insert) =>
    [...insert.matchAll(/(?:select|values \(|\),\s*\()\s*'([a-z]+\.[a-z_]+)'/gi)].map((m) => m[1] as string),
  );
}

describe('the schema dump', () => {
  it('is what the migrations and function sources make today (run `npm run db:dump` after changing either)', async () => {
    expect(await dumpMigratedSchema()).toBe(await readFile(SCHEMA_DUMP_PATH, 'utf8'));
  });

  it('names only audit actions the service knows, in SQL functions and statements alike', async () => {
    const texts = [await readFile(SCHEMA_DUMP_PATH, 'utf8')];
    for (const file of await sourceFiles(SRC)) texts.push(await readFile(file, 'utf8'));
    const found = texts.flatMap(auditActionsInSql);
    expect(found).toEqual(expect.arrayContaining(['token.leased', 'token.evicted', 'token.expired']));
    expect(found.filter((action) => !(AUDIT_ACTIONS as readonly string[]).includes(action))).toEqual([]);
  });
});
