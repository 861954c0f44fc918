import { problemOf, unreachable } from './errors.js';

export const API_BASE = '/api/v1';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface SendOptions {
  body?: unknown;
  form?: FormData;
  token?: string | undefined;
}

/** One call to the API; a network failure becomes an ApiError like any other. */
export async function send(method: Method, path: string, options: SendOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: BodyInit | undefined;
  if (options.form) body = options.form;
  else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  try {
    return await fetch(`${API_BASE}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  } catch {
    throw unreachable();
  }
}

/** The body of a successful answer (undefined when it has none); a failed one throws its problem. */
export async function readJson<T>(response: Response): Promise<T> {
  if (!response.ok) throw await problemOf(response);
  const type = response.headers.get('content-type') ?? '';
  return (type.includes('json') ? await response.json() : undefined) as T;
}
