import { generateTypes } from 'tokenpool-openapi-typescript';

/** The document the app serves, committed: `npm run openapi` writes it, `npm run lint` runs Spectral on it. */
export const DOCUMENT_PATH = new URL('../../openapi.json', import.meta.url).pathname;

/**
 * The client types openapi-typescript makes of it, which the client tour is written (and type-checked)
 * against: not committed, `npm run openapi:types` writes them (lint and typecheck run it first).
 */
export const TYPES_PATH = new URL('../generated/openapi.d.ts', import.meta.url).pathname;

export function documentText(document: object): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

export async function typesText(document: object): Promise<string> {
  // openapi-typescript may resolve the document in place; the caller's copy stays as it was.
  const types = await generateTypes(structuredClone(document));
  return `// From openapi.json by openapi-typescript: run \`npm run openapi\` to write it again.\n${types}`;
}
