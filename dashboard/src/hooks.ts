import { useEffect, useState } from 'preact/hooks';
import { type SessionState, session } from './api/session.js';

export function useSession(): SessionState {
  const [state, setState] = useState(session.state);
  useEffect(() => {
    setState(session.state);
    return session.subscribe(() => setState(session.state));
  }, []);
  return state;
}

/** The current time, ticking every `intervalMs`: drives countdowns. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
}

/** Loads something whenever `key` changes; a late answer for an older key is dropped. */
export function useResource<T>(load: () => Promise<T>, key: string): Resource<T> {
  const [result, setResult] = useState<{ key: string; data?: T; error?: unknown } | undefined>();
  // `key` names everything `load` reads, so the effect runs again exactly when the answer would differ.
  useEffect(() => {
    let current = true;
    load().then(
      (data) => current && setResult({ key, data }),
      (error: unknown) => current && setResult({ key, error }),
    );
    return () => {
      current = false;
    };
  }, [key]);
  const fresh = result?.key === key ? result : undefined;
  // While the next key loads, the last data stays on screen (marked busy) rather than a blank.
  return { data: fresh?.data ?? (result?.data as T | undefined), error: fresh?.error, loading: !fresh };
}

/** One user action at a time: busy while it runs, its failure kept to be shown until `dismiss`. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = async (action: () => Promise<void>) => {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const dismiss = () => setError(undefined);
  return { busy, error, run, dismiss };
}
