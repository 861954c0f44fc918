import { loadConfig } from '../../src/config.js';
/** The services the suite runs against: real PostgreSQL and Redis when CI sets their URLs. */
export const testEnvironment = (() => {
    const { DATABASE_URL, REDIS_URL } = loadConfig();
    return { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL };
})();
/** A connection string for another database on the same server. */
export function databaseUrlFor(baseUrl, database) {
    const url = new URL(baseUrl);
    url.pathname = `/${database}`;
    return url.toString();
}
//# sourceMappingURL=environment.js.map