import { type Method, readJson, type SendOptions } from './http.js';
import { sendAuthorized } from './session.js';

export async function api<T>(method: Method, path: string, options: Omit<SendOptions, 'token'> = {}): Promise<T> {
  return readJson<T>(await sendAuthorized(method, path, options));
}

/** A path with its query string; empty and undefined values are left out. */
export function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}
