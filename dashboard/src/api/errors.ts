import type { Problem } from './types.js';

/** A failed call, carrying the service's problem document (or one made up for a network failure). */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail || problem.title);
    this.status = problem.status;
    this.problem = problem;
  }

  /** The message for one field of a form, when the service rejected that field. */
  field(name: string): string | undefined {
    return this.problem.errors?.find((error) => error.field === name)?.message;
  }
}

export const unreachable = (): ApiError =>
  new ApiError({
    type: 'about:blank',
    title: 'The service could not be reached',
    status: 0,
    detail: 'Check the connection and try again.',
    code: 'NETWORK',
  });

/** Reads a problem document from a failed response; a proxy's HTML error page becomes one too. */
export async function problemOf(response: Response): Promise<ApiError> {
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    const body = (await response.json().catch(() => undefined)) as Problem | undefined;
    if (body?.title) return new ApiError({ ...body, status: response.status });
  }
  return new ApiError({
    type: 'about:blank',
    title: response.statusText || 'Request failed',
    status: response.status,
    detail: `The service answered ${response.status}.`,
    code: 'HTTP',
  });
}
