import { writeFile } from 'node:fs/promises';
import { dumpMigratedSchema, SCHEMA_DUMP_PATH } from '../src/infra/db/schema-dump.js';

// npm run db:dump: writes the schema the migrations make to migrations/schema.sql.
await writeFile(SCHEMA_DUMP_PATH, await dumpMigratedSchema());
console.log(`wrote ${SCHEMA_DUMP_PATH}`);
