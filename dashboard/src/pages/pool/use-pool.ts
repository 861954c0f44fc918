import { useEffect, useRef, useState } from 'preact/hooks';
import { TOKEN_EVENT_TYPES } from '../../../../src/modules/tokens/token-events.js';
import { api } from '../../api/client.js';
import { openStream } from '../../api/streams.js';
import type { TokenEvent, TokenList } from '../../api/types.js';
import { applyTokenEvent, type PoolState, poolFromList } from './pool-state.js';

export interface LivePool {
  pool: PoolState | undefined;
  error: unknown;
  /** The event stream is open. */
  live: boolean;
  /** Applies a change this page made itself, before its event comes back. */
  apply(event: TokenEvent): void;
}

/**
 * The whole pool, kept current by `/tokens/events`. The list is loaded again each time the stream
 * (re)opens, since events sent while it was down are gone; events that arrive during that load are
 * applied on top of it.
 */
export function usePool(): LivePool {
  const [pool, setPool] = useState<PoolState>();
  const [error, setError] = useState<unknown>();
  const [live, setLive] = useState(false);
  const apply = useRef((event: TokenEvent) => setPool((current) => current && applyTokenEvent(current, event)));

  useEffect(() => {
    let stopped = false;
    let latest = 0;
    // Events heard while the latest load is in flight; null when none is.
    let heard: TokenEvent[] | null = null;
    const load = async () => {
      latest += 1;
      const attempt = latest;
      heard = [];
      try {
        const list = await api<TokenList>('GET', '/tokens');
        if (stopped || attempt !== latest) return;
        setPool(heard.reduce(applyTokenEvent, poolFromList(list)));
        setError(undefined);
      } catch (caught) {
        if (!stopped && attempt === latest) setError(caught);
      } finally {
        if (attempt === latest) heard = null;
      }
    };
    void load();
    const stop = openStream('/tokens/events', TOKEN_EVENT_TYPES, {
      onOpen() {
        setLive(true);
        void load();
      },
      onEvent(_type, data) {
        const event = data as TokenEvent;
        heard?.push(event);
        apply.current(event);
      },
      onDown: () => setLive(false),
    });
    return () => {
      stopped = true;
      stop();
    };
  }, []);

  return { pool, error, live, apply: apply.current };
}
