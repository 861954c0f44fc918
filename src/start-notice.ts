import type { Deps } from './deps.js';
import { countAdmins } from './modules/users/users.sql.js';

/**
 * What a person who has just started the service needs first: where the dashboard is, and whether
 * anyone can sign in to it as an admin yet. Only a note: a failure here must not stop a service
 * that is already serving.
 */
export async function logStartNotice({
  config,
  database,
  logger,
}: Pick<Deps, 'config' | 'database' | 'logger'>): Promise<void> {
  const dashboard = `${config.PUBLIC_URL}/`;
  try {
    const admins = await countAdmins(database.db);
    logger.info(
      { dashboard, admins },
      admins > 0
        ? `dashboard at ${dashboard}`
        : `dashboard at ${dashboard}; no admin account yet: start with ADMIN_EMAIL and ADMIN_PASSWORD set, or run create-admin`,
    );
  } catch (error) {
    logger.warn({ err: error, dashboard }, `dashboard at ${dashboard}; could not count admin accounts`);
  }
}
