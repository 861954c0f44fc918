import { sql } from 'drizzle-orm';
import { type Db, queryRows } from './database.js';

/**
 * holdDeploymentLease: whether `holder` holds the deployment-wide lease `name` for the next
 * `seconds`, taking it when it is free or lapsed and renewing it when it is its own. One statement:
 * of two processes asking at once, one wins. By the database clock.
 */
export async function holdDeploymentLease(db: Db, name: string, holder: string, seconds: number): Promise<boolean> {
  const rows = await queryRows<{ holder: string }>(
    db,
    sql`insert into deployment_leases (name, holder, expires_at)
        values (${name}, ${holder}, now() + ${seconds} * interval '1 second')
        on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
          where deployment_leases.holder = excluded.holder or deployment_leases.expires_at <= now()
        returning holder`,
  );
  return rows.length > 0;
}
