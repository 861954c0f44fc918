/** The TypeScript types openapi-typescript makes from an OpenAPI document (`paths`, `components`, …). */
export function generateTypes(document: object): Promise<string>;
