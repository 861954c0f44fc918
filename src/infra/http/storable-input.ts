import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors, type FieldError } from './errors.js';

/** How deep a client's JSON may nest, the body itself being level 1. */
export const MAX_NESTING_DEPTH = 32;

// PostgreSQL refuses NUL in text and jsonb, and jsonb refuses a UTF-16 surrogate without its pair
// (in `u` mode a range of surrogates matches only the unpaired ones).
const UNPAIRED_SURROGATE = /[\ud800-\udfff]/u;
const storable = (text: string) => !text.includes('\u0000') && !UNPAIRED_SURROGATE.test(text);
const UNSTORABLE_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

type Schema = { [key: string]: unknown };

/** Keywords whose value is a schema, a list of them, or a map of them. */
const ONE = ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains'];
const LIST = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
const MAP = ['properties', 'patternProperties', '$defs'];

/**
 * A copy of the schema whose integers are all within what a JavaScript number holds exactly, which
 * is inside PostgreSQL's bigint too: past 2^53 a number is rounded, and 2^63 - 1 arrives as 2^63.
 */
function withIntegerBounds(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema;
  // Descriptors and all: TypeBox keeps what it knows (`~optional`) in properties that do not enumerate.
  const copy: Schema = Object.defineProperties({}, Object.getOwnPropertyDescriptors(schema));
  const types = Array.isArray(copy.type) ? copy.type : [copy.type];
  if (types.includes('integer')) {
    copy.minimum = Math.max((copy.minimum as number | undefined) ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER);
    copy.maximum = Math.min((copy.maximum as number | undefined) ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }
  for (const key of ONE) if (key in copy) copy[key] = withIntegerBounds(copy[key]);
  for (const key of LIST) if (Array.isArray(copy[key])) copy[key] = (copy[key] as unknown[]).map(withIntegerBounds);
  for (const key of MAP) {
    const map = copy[key];
    if (typeof map === 'object' && map !== null) {
      copy[key] = Object.fromEntries(Object.entries(map).map(([name, value]) => [name, withIntegerBounds(value)]));
    }
  }
  return copy;
}

/** The first thing in a client's value the database could not hold, as a field error. */
function unstorable(value: unknown, path: string[], root: string): FieldError | undefined {
  const field = () => path.join('.') || root;
  if (typeof value === 'string') return storable(value) ? undefined : { field: field(), message: UNSTORABLE_MESSAGE };
  if (typeof value !== 'object' || value === null) return undefined;
  // Checked before going down, so the walk itself never nests deeper than the bound.
  if (path.length >= MAX_NESTING_DEPTH) {
    return { field: path[0] ?? root, message: `must not nest deeper than ${MAX_NESTING_DEPTH} levels` };
  }
  for (const [key, item] of Object.entries(value)) {
    if (!storable(key)) return { field: field(), message: `has a property name that ${UNSTORABLE_MESSAGE}` };
    const found = unstorable(item, [...path, key], root);
    if (found) return found;
  }
  return undefined;
}

/**
 * Refuses, with a 400 before any route runs, every value a client sends that the database cannot
 * hold: text with NUL or an unpaired surrogate anywhere in the path, the query or the body, JSON
 * nested deeper than MAX_NESTING_DEPTH (which also keeps `JSON.stringify` off a stack overflow),
 * and integers past 2^53 in any route's schema. Register it before the routes.
 */
export function refuseUnstorableInput(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const schema = route.schema as Schema | undefined;
    if (!schema) return;
    route.schema = {
      ...schema,
      ...Object.fromEntries(
        ['body', 'querystring', 'params', 'headers'].flatMap((part) =>
          schema[part] ? [[part, withIntegerBounds(schema[part])]] : [],
        ),
      ),
    };
  });
  app.addHook('preValidation', async (request: FastifyRequest) => {
    for (const [part, value] of [
      ['params', request.params],
      ['querystring', request.query],
      ['body', request.body],
    ] as const) {
      const found = unstorable(value, [], part);
      if (found) throw errors.validation(`The ${part} is invalid.`, [found]);
    }
  });
}
