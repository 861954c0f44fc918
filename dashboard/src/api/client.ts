import { type Method, readJson, type SendOptions, send } from './http.js';
import { accessToken, refresh, session } from './session.js';

/**
 * An authenticated call: the access token is refreshed before it expires, and once more if the
 * service still answers 401; after that the session is over and the sign-in page shows.
 */
export async function authorizedResponse(
  method: Method,
  path: string,
  options: Omit<SendOptions, 'token'> = {},
): Promise<Response> {
  let response = await send(method, path, { ...options, token: await accessToken() });
  if (response.status === 401 && (await refresh())) {
    response = await send(method, path, { ...options, token: await accessToken() });
  }
  if (response.status === 401) session.expire();
  return response;
}

export async function api<T>(method: Method, path: string, options: Omit<SendOptions, 'token'> = {}): Promise<T> {
  return readJson<T>(await authorizedResponse(method, path, options));
}

/** A path with its query string; empty and undefined values are left out. */
export function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}
