// openapi-typescript prints its output with TypeScript's JS compiler API, which TypeScript 7 (the
// project's, a native compiler) no longer has: this package depends on a TypeScript 5 of its own,
// which npm installs here, nested, beside the openapi-typescript that imports it.
import openapiTS, { astToString } from 'openapi-typescript';

export async function generateTypes(document) {
  return astToString(await openapiTS(document));
}
