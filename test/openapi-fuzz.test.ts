import { randomUUID } from 'node:crypto';
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

/** JSON text sent as it is: numbers past what a JavaScript number holds, nesting no client library writes. */
class RawJson {
  constructor(readonly text: string) {}
}

const nestedText = (levels: number) => `${'{"a":'.repeat(levels - 1)}[1]${'}'.repeat(levels - 1)}`;

/** Values the database cannot hold (SPEC "Abuse limits"): each must be a 400 at the edge, never a 500. */
const UNSTORABLE: unknown[] = [
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  { note: 'a\u0000b' },
  { 'k\u0000': 1 },
  ['\ud800'],
  '9223372036854775807',
  '-9223372036854775809',
  '18446744073709551616',
  new RawJson('9223372036854775807'),
  new RawJson('-9223372036854775809'),
  new RawJson(nestedText(33)),
  new RawJson(nestedText(100_000)),
];

/** A value as JSON text, RawJson pieces as they are. */
function jsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}:${jsonText(item)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Percent-encoding that also writes an unpaired surrogate, as the (invalid) UTF-8 bytes a client may send. */
function percentEncode(text: string): string {
  return text
    .split(/([\ud800-\udfff])/u)
    .map((piece, i) => {
      if (i % 2 === 0) return encodeURIComponent(piece);
      const unit = piece.charCodeAt(0);
      return [0xed, 0xa0 | ((unit >> 6) & 0x1f), 0x80 | (unit & 0x3f)]
        .map((byte) => `%${byte.toString(16).toUpperCase()}`)
        .join('');
    })
    .join('');
}

const HOSTILE: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...UNSTORABLE),
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
  const text = typeof value === 'string' ? value : jsonText(value);
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(percentEncode(text)) },
    { weight: 1, arbitrary: fc.constant(text.replace(/[\s#?/]/g, '').replace(/[\ud800-\udfff]/gu, percentEncode)) },
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

/** The values of one request: each path and query parameter (already in URL form) and the body. */
interface RequestParts {
  path: string[];
  query: Array<string | undefined>;
  body: unknown;
}

function partsFor(operation: Operation): fc.Arbitrary<RequestParts> {
  const path = operation.parameters.filter((p) => p.in === 'path');
  const query = operation.parameters.filter((p) => p.in === 'query');
  return fc.record({
    path: fc.tuple(...path.map((p) => fieldValue(p.schema).chain(inUrl))),
    query: fc.tuple(...query.map((p) => fc.option(fieldValue(p.schema).chain(inUrl), { nil: undefined, freq: 3 }))),
    body: operation.body
      ? fc.oneof({ weight: 5, arbitrary: validValue(operation.body) }, { weight: 1, arbitrary: HOSTILE })
      : fc.constant(undefined),
  });
}

function toRequest(operation: Operation, parts: RequestParts, credential: Credential): FuzzRequest {
  const path = operation.parameters.filter((p) => p.in === 'path');
  const query = operation.parameters.filter((p) => p.in === 'query');
  let url = operation.path;
  path.forEach((p, i) => {
    url = url.replace(`{${p.name}}`, parts.path[i] || 'x');
  });
  const search = query.flatMap((p, i) => (parts.query[i] === undefined ? [] : [`${p.name}=${parts.query[i]}`]));
  return {
    method: operation.method,
    url: search.length > 0 ? `${url}?${search.join('&')}` : url,
    body: parts.body,
    credential,
  };
}

function requestFor(operation: Operation): fc.Arbitrary<FuzzRequest> {
  const credentials: Credential[] = operation.stream ? ['none', 'garbage'] : ['none', 'garbage', 'user', 'admin'];
  return fc
    .record({ parts: partsFor(operation), credential: fc.constantFrom(...credentials) })
    .map(({ parts, credential }) => toRequest(operation, parts, credential));
}

/** One plainly valid value of the schema: what a request needs to get past validation to the database. */
function plainValue(schema: Schema): unknown {
  if (schema.enum) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return plainValue(union.find((branch) => branch.type !== 'null') ?? (union[0] as Schema));
  switch (Array.isArray(schema.type) ? schema.type[0] : schema.type) {
    case 'integer':
    case 'number':
      return Math.min(Math.max(1, schema.minimum ?? 1), schema.maximum ?? 1);
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return [];
    case 'object':
      return Object.fromEntries(
        (schema.required ?? []).map((name) => [name, plainValue(schema.properties?.[name] ?? {})]),
      );
    default:
      return (
        { uuid: randomUUID(), email: 'someone@example.com', date: '2000-01-01', 'date-time': new Date().toISOString() }[
          schema.format ?? ''
        ] ?? 'x'.repeat(Math.max(1, schema.minLength ?? 1))
      );
  }
}

/**
 * For every parameter and top-level body field of the operation, and for the body whole: a request
 * plainly valid but for that one place, which holds `value`.
 */
function withValueEverywhere(operation: Operation, value: unknown): FuzzRequest[] {
  const valueInUrl = percentEncode(typeof value === 'string' ? value : jsonText(value));
  const plainInUrl = (parameter: Parameter) => encodeURIComponent(String(plainValue(parameter.schema)));
  const path = operation.parameters.filter((p) => p.in === 'path');
  const query = operation.parameters.filter((p) => p.in === 'query');
  const valid: RequestParts = {
    path: path.map(plainInUrl),
    query: query.map((p) => (p.required ? plainInUrl(p) : undefined)),
    body: operation.body ? plainValue(operation.body) : undefined,
  };
  const variants: RequestParts[] = [
    ...path.map((_, i) => ({ ...valid, path: valid.path.map((v, j) => (i === j ? valueInUrl : v)) })),
    ...query.map((_, i) => ({ ...valid, query: valid.query.map((v, j) => (i === j ? valueInUrl : v)) })),
  ];
  if (operation.body) {
    variants.push({ ...valid, body: value });
    // A body that may also be null names its fields in its object branch.
    const object = [operation.body, ...(operation.body.anyOf ?? []), ...(operation.body.oneOf ?? [])].find(
      (schema) => schema.properties,
    );
    const base = typeof valid.body === 'object' && valid.body !== null ? valid.body : {};
    for (const field of Object.keys(object?.properties ?? {})) {
      variants.push({ ...valid, body: { ...base, [field]: value } });
    }
  }
  return variants.map((parts) => toRequest(operation, parts, 'admin'));
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

/** Sends the request; answers its status, having checked it is no 5xx and that any error is a problem document. */
async function sendAndCheck(request: FuzzRequest): Promise<number> {
  const token = tokens[request.credential];
  const authorization = token ? { authorization: `Bearer ${token}` } : {};
  const response = await file.harness.app.inject({
    method: request.method as 'GET',
    url: request.url,
    headers: authorization,
    ...(request.body === undefined
      ? {}
      : { payload: jsonText(request.body), headers: { 'content-type': 'application/json', ...authorization } }),
  });
  const what = `${request.method} ${request.url.slice(0, 200)}: ${response.body.slice(0, 500)}`;
  expect(response.statusCode, what).toBeLessThan(500);
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
  return response.statusCode;
}

describe('requests generated from the OpenAPI document', () => {
  it('never get a 5xx, and every error is a problem document', { timeout: 120_000 }, async () => {
    expect(operations.length).toBeGreaterThan(20);
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...operations).chain(requestFor), async (request) => {
        const status = await sendAndCheck(request);
        seen.set(status, (seen.get(status) ?? 0) + 1);
      }),
      { seed: 20261121, numRuns: 600 },
    );
    // The run reached past the door: successes and refusals of several kinds.
    for (const status of [200, 400, 401, 404])
      expect(seen.get(status) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(0);
  });

  it('answer every value the database cannot hold, in every parameter and body field, with no 5xx', {
    timeout: 120_000,
  }, async () => {
    // A session of its own: the run above may have ended the admin's (logout, password change).
    tokens.admin = (await signInAdmin(file.harness)).accessToken;
    const seen = new Map<number, number>();
    for (const operation of operations.filter((o) => !o.stream)) {
      for (const value of UNSTORABLE) {
        for (const request of withValueEverywhere(operation, value)) {
          const status = await sendAndCheck(request);
          seen.set(status, (seen.get(status) ?? 0) + 1);
        }
      }
    }
    // Most of them were refused as invalid, at the edge.
    expect(seen.get(400) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(100);
  });
});
