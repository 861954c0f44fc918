import { sql } from 'drizzle-orm';
import { type Db, queryRows } from './database.js';

/**
 * ensureDeploymentSetting: the deployment's value of `name`, made from `candidate` by whichever
 * process asks first; every later caller, in any process on any machine, gets that same value.
 */
export async function ensureDeploymentSetting(db: Db, name: string, candidate: string): Promise<string> {
  await db.execute(
    sql`insert into deployment_settings (name, value) values (${name}, ${candidate}) on conflict (name) do nothing`,
  );
  // A statement of its own: its snapshot sees the row of a process that won the insert meanwhile.
  const [row] = await queryRows<{ value: string }>(db, sql`select value from deployment_settings where name = ${name}`);
  if (!row) throw new Error(`deployment setting ${name} is missing after it was made`);
  return row.value;
}
