import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DOCUMENT_PATH, TYPES_PATH, typesText } from '../test/helpers/openapi.js';

// npm run openapi:types, which lint and typecheck run first: writes the client types made from the
// committed openapi.json to test/generated/openapi.d.ts. Git ignores that file: it follows from the
// document, whose every change already shows in openapi.json's diff.
const document = JSON.parse(await readFile(DOCUMENT_PATH, 'utf8'));
await mkdir(dirname(TYPES_PATH), { recursive: true });
await writeFile(TYPES_PATH, await typesText(document));
