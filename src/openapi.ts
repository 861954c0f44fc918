import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';

interface Operation {
  parameters?: Array<{ required?: boolean; schema?: { default?: unknown } }>;
}

/**
 * Fastify validates with Ajv's `useDefaults`, which fills in a missing parameter's default before
 * `required` is checked: a client may leave such a parameter out (`page`, `pageSize`), so the
 * document says it is optional and generated clients do not ask for it.
 */
function defaultsAreOptional<T extends { paths?: object }>(document: T): T {
  for (const item of Object.values(document.paths ?? {}) as Array<Record<string, Operation>>) {
    for (const operation of Object.values(item)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.schema?.default !== undefined) parameter.required = false;
      }
    }
  }
  return document;
}

/**
 * The OpenAPI document's own parts (the routes' schemas give the rest), and the one correction it
 * needs. Every tag a route uses is declared here with what it groups, so generated clients and the
 * docs page can name their sections.
 */
export const swaggerOptions: FastifyDynamicSwaggerOptions = {
  // Shared schemas appear under their own name (`Problem`), which generated clients turn into a type.
  refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  transformObject: (input) =>
    'openapiObject' in input ? defaultsAreOptional(input.openapiObject) : input.swaggerObject,
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'Tokenpool',
      version: '1.0.0',
      description: 'Time-boxed leases on a fixed pool of UUID tokens, accounts, bulk user import and an audit log.',
      contact: { name: 'Tokenpool maintainers' },
    },
    // Relative: the API is served by whatever host serves this document, under /api/v1.
    servers: [{ url: '/', description: 'The service that serves this document' }],
    tags: [
      {
        name: 'auth',
        description: 'Accounts and sessions: register, sign in, refresh, sign out, passwords and e-mail confirmation.',
      },
      { name: 'users', description: 'The signed-in user, the list of accounts, and service accounts.' },
      {
        name: 'tokens',
        description:
          'The pool: lease a token for TOKEN_TTL_SECONDS, release it, see every token and its history, and watch ' +
          'the pool change live.',
      },
      { name: 'imports', description: 'Bulk user import from CSV, run in the background, with live progress.' },
      { name: 'audit', description: 'The audit log: who did what, when, from where.' },
      {
        name: 'webhooks',
        description: 'Endpoints that hear every pool event, signed (Standard Webhooks), and their delivery log.',
      },
      {
        name: 'api-keys',
        description: 'Keys for programs (`tp_sk_…`), scoped, expiring, rotated with an overlap and revoked at once.',
      },
      { name: 'health', description: 'Liveness and readiness probes.' },
    ],
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An access token from `POST /auth/login` (an opaque JWE), or an API key (`tp_sk_…`, from `POST /api-keys`), ' +
            'which acts as its owner narrowed to its scopes: each route says which scope a key needs, or that keys ' +
            'are refused.',
        },
        streamTicket: { type: 'apiKey', in: 'query', name: 'ticket', description: 'From POST /auth/stream-ticket.' },
      },
    },
  },
};
