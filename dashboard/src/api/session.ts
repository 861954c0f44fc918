import { ApiError } from './errors.js';
import { type Method, readJson, type SendOptions, send } from './http.js';
import { type StoredPair, sessionStore } from './session-store.js';
import type { TokenPair, User } from './types.js';

/**
 * The signed-in session, shared by every tab of the dashboard so a reload or a second tab stays
 * signed in. Refresh tokens rotate and presenting a spent one ends the session, so tabs take turns
 * refreshing under a Web Lock, and a tab that waited adopts the pair the other one stored.
 */

const LOCK_NAME = 'tokenpool.refresh';
/** Refresh this long before the access token expires (or at half its life, if that is sooner). */
const REFRESH_MARGIN_MS = 60_000;
const ENDED = 'Your session has ended. Sign in again.';

type TabMessage = 'signed-in' | 'refreshed' | 'signed-out';

export interface SessionState {
  status: 'starting' | 'signed-out' | 'signed-in';
  user: User | null;
  /** Why the user is looking at the sign-in page, when it was not their choice. */
  notice: string | null;
}

let state: SessionState = { status: 'starting', user: null, notice: null };
const listeners = new Set<() => void>();
const tabs = new BroadcastChannel('tokenpool.session');
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let inflight: Promise<boolean> | undefined;

function setState(next: Partial<SessionState>): void {
  state = { ...state, ...next };
  for (const listener of listeners) listener();
}

function refreshDelay(pair: StoredPair): number {
  const margin = Math.min(REFRESH_MARGIN_MS, pair.lifetimeMs / 2);
  return Math.max(0, pair.expiresAt - margin - Date.now());
}

function schedule(pair: StoredPair | undefined): void {
  clearTimeout(refreshTimer);
  if (pair) refreshTimer = setTimeout(() => void refresh().catch(() => {}), refreshDelay(pair));
}

async function storePair(pair: TokenPair, message: TabMessage): Promise<void> {
  const lifetimeMs = pair.expiresIn * 1000;
  const stored: StoredPair = {
    accessToken: pair.accessToken,
    refreshToken: pair.refreshToken,
    expiresAt: Date.now() + lifetimeMs,
    lifetimeMs,
  };
  await sessionStore.write(stored);
  schedule(stored);
  tabs.postMessage(message);
}

async function forget(notice: string | null): Promise<void> {
  clearTimeout(refreshTimer);
  await sessionStore.clear();
  setState({ status: 'signed-out', user: null, notice });
}

async function exchange(seen: StoredPair | undefined): Promise<boolean> {
  const current = await sessionStore.read();
  if (!current) return false;
  // Another tab refreshed while this one waited for the lock: its pair is the live one.
  if (seen && current.refreshToken !== seen.refreshToken) {
    schedule(current);
    return true;
  }
  const response = await send('POST', '/auth/refresh', { body: { refreshToken: current.refreshToken } });
  if (response.status === 401) {
    await forget(ENDED);
    tabs.postMessage('signed-out' satisfies TabMessage);
    return false;
  }
  await storePair(await readJson<TokenPair>(response), 'refreshed');
  return true;
}

/** Swaps the refresh token for a new pair; false when the session is over. */
function refresh(): Promise<boolean> {
  inflight ??= (async () => {
    const seen = await sessionStore.read();
    try {
      // Web Locks exist only in secure contexts (https, localhost); elsewhere one tab is assumed.
      return navigator.locks ? await navigator.locks.request(LOCK_NAME, () => exchange(seen)) : await exchange(seen);
    } finally {
      inflight = undefined;
    }
  })();
  return inflight;
}

/** An access token good for the next request, refreshed first when it is about to expire. */
async function accessToken(): Promise<string | undefined> {
  const pair = await sessionStore.read();
  if (!pair) return undefined;
  if (refreshDelay(pair) > 0) return pair.accessToken;
  return (await refresh()) ? (await sessionStore.read())?.accessToken : undefined;
}

/**
 * A call with the session's access token: refreshed before it expires, and once more if the
 * service still answers 401; after that the session is over and the sign-in page shows.
 */
export async function sendAuthorized(
  method: Method,
  path: string,
  options: Omit<SendOptions, 'token'> = {},
): Promise<Response> {
  let response = await send(method, path, { ...options, token: await accessToken() });
  if (response.status === 401 && (await refresh())) {
    response = await send(method, path, { ...options, token: await accessToken() });
  }
  if (response.status === 401) await forget(ENDED);
  return response;
}

async function loadUser(): Promise<void> {
  if (!(await sessionStore.read())) return forget(state.status === 'starting' ? null : ENDED);
  const response = await sendAuthorized('GET', '/users/me');
  // A 401 has already signed this tab out.
  if (response.status !== 401) setState({ status: 'signed-in', user: await readJson<User>(response), notice: null });
}

/** Loads the signed-in user, trying again every few seconds while the service cannot be reached. */
async function resume(): Promise<void> {
  try {
    await loadUser();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 0) throw error;
    setState({ notice: 'The service could not be reached. Trying again…' });
    setTimeout(() => void resume(), 3000);
  }
}

/** What the other tabs did to the shared session. */
tabs.onmessage = (event: MessageEvent<TabMessage>) => {
  if (event.data === 'signed-out' && state.status === 'signed-in') {
    clearTimeout(refreshTimer);
    setState({ status: 'signed-out', user: null, notice: 'You were signed out in another tab.' });
  } else if (event.data === 'signed-in' && state.status !== 'signed-in') void resume();
  else if (event.data === 'refreshed') void sessionStore.read().then(schedule);
};

export const session = {
  get state(): SessionState {
    return state;
  },

  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },

  /** Picks up a session stored by an earlier visit or another tab. */
  async start(): Promise<void> {
    try {
      schedule(await sessionStore.read());
    } catch {
      // Some private modes refuse IndexedDB; without it no session can be kept.
      return setState({
        status: 'signed-out',
        notice: 'This browser does not let the dashboard keep data, so signing in cannot work here.',
      });
    }
    await resume();
  },

  async signIn(email: string, password: string): Promise<void> {
    const response = await send('POST', '/auth/login', { body: { email, password } });
    await storePair(await readJson<TokenPair>(response), 'signed-in');
    await loadUser();
  },

  /** Ends the session on the service, then in every tab, whatever the service said. */
  async signOut(): Promise<void> {
    const token = (await sessionStore.read())?.accessToken;
    if (token) await send('POST', '/auth/logout', { token }).catch(() => undefined);
    await forget(null);
    tabs.postMessage('signed-out' satisfies TabMessage);
  },
};
