import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/infra/http/errors.js';
import { signInAdmin } from './helpers/admin.js';
import { useHarness } from './helpers/harness.js';

// Requests made from the OpenAPI document's own schemas: valid values, values on and past every
// bound, and hostile ones (control characters, wrong types, huge numbers, bad encodings), for every
// parameter and body field of every route, with and without credentials. Whatever comes in, the
// answer is never a 5xx, and every error is a problem document with a code from the catalogue.

interface Schema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
}

interface Parameter {
  in: 'path' | 'query';
  name: string;
  required?: boolean;
  schema: Schema;
}

interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body: Schema | undefined;
  stream: boolean;
}

const HOSTILE: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, '', '\u0000', 'a\u0000b', '\u001b[2J', ' ', '%', '%zz', '../../etc/passwd', "' or 1=1 --"),
  fc.constantFrom(-1, 0, 1e21, -1e21, 2 ** 53, 1e20, 1.5, Number.MAX_SAFE_INTEGER),
  fc.constantFrom('0000-01-01', '9999-12-31', '2021-02-30', '00000000-0000-0000-0000-000000000000'),
  fc.constantFrom([], {}, [1, 2], { nested: { deep: true } }, true, 'x'.repeat(5000)),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

function validValue(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return fc.oneof(...union.map(validValue));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer': {
      const min = schema.minimum ?? -1000;
      const max = schema.maximum ?? min + 1_000_000;
      // The bounds themselves, and what lies just past them.
      return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max, min - 1, max + 1));
    }
    case 'number':
      return fc.double({ noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(schema.items ? validValue(schema.items) : fc.anything(), { maxLength: 4 });
    case 'object':
      return objectValue(schema);
    default:
      return stringValue(schema);
  }
}

function stringValue(schema: Schema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 64, 300);
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'email':
      return fc.emailAddress();
    case 'date':
      return fc
        .date({ min: new Date('1800-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
    case 'date-time':
      return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
    default:
      return fc.oneof(
        fc.string({ minLength: min, maxLength: max }),
        // One past each length bound.
        fc.constantFrom('x'.repeat(Math.max(0, min - 1)), 'x'.repeat((schema.maxLength ?? 64) + 1)),
      );
  }
}

function objectValue(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const properties = Object.entries(schema.properties ?? {});
  const record = fc.record(Object.fromEntries(properties.map(([name, property]) => [name, fieldValue(property)])), {
    requiredKeys: [],
  });
  return fc.oneof(
    { weight: 4, arbitrary: record },
    { weight: 1, arbitrary: record.map((value) => ({ ...value, unexpected: 'field' })) },
  );
}

const fieldValue = (schema: Schema) =>
  fc.oneof({ weight: 3, arbitrary: validValue(schema) }, { weight: 1, arbitrary: HOSTILE });

/** A value as a URL carries it: encoded, or now and then raw, percent signs and all. */
function inUrl(value: unknown): fc.Arbitrary<string> {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(encodeURIComponent(text)) },
    { weight: 1, arbitrary: fc.constant(text.replace(/[\s#?/]/g, '')) },
  );
}

function operationsOf(document: { paths: Record<string, Record<string, Record<string, unknown>>> }): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => {
      const body = (operation.requestBody as { content?: Record<string, { schema: Schema }> } | undefined)?.content?.[
        'application/json'
      ]?.schema;
      return {
        method: method.toUpperCase(),
        path,
        parameters: (operation.parameters as Parameter[] | undefined) ?? [],
        body,
        // An event stream answers forever: only its refusals are fuzzed.
        stream: path.endsWith('/events'),
      };
    }),
  );
}

type Credential = 'none' | 'garbage' | 'user' | 'admin';

interface FuzzRequest {
  method: string;
  url: string;
  body: unknown;
  credential: Credential;
}

function requestFor(operation: Operation): fc.Arbitrary<FuzzRequest> {
  const path = operation.parameters.filter((p) => p.in === 'path');
  const query = operation.parameters.filter((p) => p.in === 'query');
  const pathValues = fc.tuple(...path.map((p) => fieldValue(p.schema).chain(inUrl)));
  const queryValues = fc.tuple(
    ...query.map((p) => fc.option(fieldValue(p.schema).chain(inUrl), { nil: undefined, freq: 3 })),
  );
  const body = operation.body
    ? fc.oneof({ weight: 5, arbitrary: validValue(operation.body) }, { weight: 1, arbitrary: HOSTILE })
    : fc.constant(undefined);
  const credentials: Credential[] = operation.stream ? ['none', 'garbage'] : ['none', 'garbage', 'user', 'admin'];
  return fc
    .record({ pathValues, queryValues, body, credential: fc.constantFrom(...credentials) })
    .map(({ pathValues: values, queryValues: queries, body: payload, credential }) => {
      let url = operation.path;
      path.forEach((p, i) => {
        url = url.replace(`{${p.name}}`, (values[i] as string) || 'x');
      });
      const search = query.flatMap((p, i) => (queries[i] === undefined ? [] : [`${p.name}=${queries[i]}`]));
      return {
        method: operation.method,
        url: search.length > 0 ? `${url}?${search.join('&')}` : url,
        body: payload,
        credential,
      };
    });
}

const file = useHarness({}, { workers: false });
let tokens: Record<Credential, string | undefined>;
let operations: Operation[];

beforeAll(async () => {
  const admin = await signInAdmin(file.harness);
  const user = await file.api.signUp();
  tokens = { none: undefined, garbage: 'eyJhbGciOiJub25lIn0.e30.', user: user.accessToken, admin: admin.accessToken };
  operations = operationsOf((await file.harness.app.inject({ method: 'GET', url: '/openapi.json' })).json());
});

describe('requests generated from the OpenAPI document', () => {
  it('never get a 5xx, and every error is a problem document', { timeout: 120_000 }, async () => {
    expect(operations.length).toBeGreaterThan(20);
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...operations).chain(requestFor), async (request) => {
        const token = tokens[request.credential];
        const response = await file.harness.app.inject({
          method: request.method as 'GET',
          url: request.url,
          headers: token ? { authorization: `Bearer ${token}` } : {},
          ...(request.body === undefined
            ? {}
            : {
                payload: JSON.stringify(request.body),
                headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
              }),
        });
        seen.set(response.statusCode, (seen.get(response.statusCode) ?? 0) + 1);
        expect(response.statusCode, `${request.method} ${request.url}: ${response.body}`).toBeLessThan(500);
        if (response.statusCode >= 400) {
          expect(response.headers['content-type'], response.body).toMatch(/^application\/problem\+json/);
          const problem = response.json();
          expect(problem).toMatchObject({
            type: expect.any(String),
            title: expect.any(String),
            status: response.statusCode,
          });
          expect(ERROR_CODES, response.body).toContain(problem.code);
          expect(response.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
        }
      }),
      { seed: 20261121, numRuns: 600 },
    );
    // The run reached past the door: successes and refusals of several kinds.
    for (const status of [200, 400, 401, 404])
      expect(seen.get(status) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(0);
  });
});
