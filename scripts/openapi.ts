import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createRuntime } from '../src/runtime.js';
import { DOCUMENT_PATH, documentText } from '../test/helpers/openapi.js';

// npm run openapi: writes the OpenAPI document the app serves to openapi.json (a test fails while it
// differs from the app's); the script then runs `npm run openapi:types` for the client types.
// The app is built on the embedded defaults (PGlite in a throwaway directory), so nothing needs to run.
const dataDir = await mkdtemp(join(tmpdir(), 'tokenpool-openapi-'));
try {
  const runtime = await createRuntime(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }));
  try {
    const app = await buildApp(runtime);
    await app.ready();
    const document = app.swagger();
    await app.close();
    await writeFile(DOCUMENT_PATH, documentText(document));
  } finally {
    await runtime.close();
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
console.log(`wrote ${DOCUMENT_PATH}`);
