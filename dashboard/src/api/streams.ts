import { api } from './client.js';
import { API_BASE } from './http.js';

export interface StreamHandlers {
  /** The stream is open: anything that happened before is not coming, so load the current state. */
  onOpen(): void;
  onEvent(type: string, data: unknown): void;
  /** The stream dropped; it is being opened again. */
  onDown?(): void;
}

const MAX_BACKOFF_MS = 15_000;

/**
 * Opens a Server-Sent Events route of the API. `EventSource` cannot send an `Authorization`
 * header, so each connection spends a fresh single-use ticket; the browser's own reconnect would
 * present a spent one, so this closes the source on error and reconnects itself with a new ticket.
 * Returns the function that stops it.
 */
export function openStream(path: string, eventTypes: string[], handlers: StreamHandlers): () => void {
  let source: EventSource | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let failures = 0;

  const retry = () => {
    if (stopped) return;
    handlers.onDown?.();
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** failures);
    failures += 1;
    timer = setTimeout(() => void connect(), delay);
  };

  const connect = async () => {
    let ticket: string;
    try {
      ({ ticket } = await api<{ ticket: string }>('POST', '/auth/stream-ticket'));
    } catch {
      return retry();
    }
    if (stopped) return;
    const opened = new EventSource(`${API_BASE}${path}?ticket=${encodeURIComponent(ticket)}`);
    source = opened;
    opened.onopen = () => {
      failures = 0;
      handlers.onOpen();
    };
    opened.onerror = () => {
      opened.close();
      retry();
    };
    for (const type of eventTypes) {
      opened.addEventListener(type, (event) =>
        handlers.onEvent(type, JSON.parse((event as MessageEvent<string>).data)),
      );
    }
  };

  void connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
  };
}
