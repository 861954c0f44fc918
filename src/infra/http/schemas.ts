import Type, { type Static, type TSchema } from 'typebox';
import { ERROR_CODES } from './errors.js';

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.Enum(ERROR_CODES, { description: 'Stable error code: a client may switch on it.' }),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    scope: Type.Optional(Type.String({ description: 'With `SCOPE_MISSING`: the scope the API key lacks.' })),
  },
  { $id: 'Problem', description: 'An RFC 9457 problem document (application/problem+json).' },
);

/**
 * Where answers name the problem document: one shared schema (`registerProblemHandlers` adds it to
 * the app), so the OpenAPI document has one `Problem` component, not a copy per answer.
 */
const ProblemRef = Type.Ref('Problem', { description: 'A problem document (RFC 9457).' });

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** A response answered as a problem document, under the media type it is sent as. */
export function problemResponse<T extends TSchema & { description?: string }>(schema: T) {
  return {
    description: schema.description ?? 'A problem document (RFC 9457).',
    content: { [PROBLEM_CONTENT_TYPE]: { schema } },
  };
}

/** Responses for the given error statuses, all problem documents. */
export function problems(...statuses: number[]): Record<number, ReturnType<typeof problemResponse<typeof ProblemRef>>> {
  return Object.fromEntries(statuses.map((status) => [status, problemResponse(ProblemRef)]));
}

export const Uuid = Type.String({ format: 'uuid' });
export const Timestamp = Type.String({ format: 'date-time', description: 'ISO-8601, UTC.' });
export const IdParams = Type.Object({ id: Uuid });

/** A 204's (empty) body. */
export const NoContent = Type.Unsafe<void>({ type: 'null', description: 'No content' });

/**
 * Text a person types on one line (a name): no control characters (PostgreSQL refuses NUL), and not
 * blank, since it is stored trimmed.
 */
export const OneLine = (options: { maxLength: number }) =>
  Type.String({
    minLength: 1,
    ...options,
    description: 'one line of text, not blank',
    pattern: '^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$',
  });

/** The most pages a list serves: past it the offset would only ask the database to skip in vain. */
export const MAX_PAGE = 1_000_000;

export const PageQuery = Type.Object({
  page: Type.Integer({
    minimum: 1,
    maximum: MAX_PAGE,
    default: 1,
    description: 'From 1; a page past the end is empty.',
  }),
  pageSize: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
});
export type PageQuery = Static<typeof PageQuery>;

const PageMeta = Type.Object({
  page: Type.Integer(),
  pageSize: Type.Integer(),
  total: Type.Integer(),
  totalPages: Type.Integer(),
});

export function Paged<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), meta: PageMeta });
}

export interface Page<T> {
  data: T[];
  meta: Static<typeof PageMeta>;
}

/** One page of a list: its rows (read with a limit and an offset) and the total, side by side. */
export async function readPage<T>(
  { page, pageSize }: PageQuery,
  rows: (limit: number, offset: number) => Promise<T[]>,
  count: () => Promise<number>,
): Promise<Page<T>> {
  const [data, total] = await Promise.all([rows(pageSize, (page - 1) * pageSize), count()]);
  return { data, meta: { page, pageSize, total, totalPages: Math.ceil(total / pageSize) } };
}
