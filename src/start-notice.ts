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

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * In production, a service listening on loopback only answers nobody but its own machine: the
 * default HOST suits a laptop, not a container or a host behind a proxy. Said, not refused, since
 * a proxy on the same machine is a real setup.
 */
export function noteLoopbackOnly({ config, logger }: Pick<Deps, 'config' | 'logger'>): void {
  if (config.NODE_ENV !== 'production' || !LOOPBACK.test(config.HOST)) return;
  logger.warn(
    { host: config.HOST },
    `listening on ${config.HOST} only: other machines cannot reach it; set HOST (0.0.0.0 for every interface) unless a proxy on this machine serves it`,
  );
}
