import type { Token, TokenEvent, TokenList } from '../../api/types.js';

/**
 * The pool as the page shows it: the list the API gave, then every event applied in order. An
 * event is applied only when it is about the lease the page knows, so events that arrived while
 * the list was loading cannot undo what the list already shows.
 */
export interface PoolState {
  tokens: Token[];
  /** Position of each token in `tokens`. */
  index: Map<string, number>;
  /** Lease requests waiting for a token, in every process. */
  waiting: number;
}

export function poolFromList(list: TokenList): PoolState {
  return {
    tokens: list.data,
    index: new Map(list.data.map((token, position) => [token.id, position])),
    waiting: list.meta.waiting,
  };
}

const free = (token: Token): Token => ({
  ...token,
  status: 'available',
  userId: null,
  leasedAt: null,
  expiresAt: null,
  fence: null,
  metadata: null,
});

function update(state: PoolState, tokenId: string, change: (token: Token) => Token | undefined): PoolState {
  const position = state.index.get(tokenId);
  if (position === undefined) return state;
  const changed = change(state.tokens[position] as Token);
  if (!changed) return state;
  const tokens = state.tokens.slice();
  tokens[position] = changed;
  return { ...state, tokens };
}

export function applyTokenEvent(state: PoolState, event: TokenEvent): PoolState {
  switch (event.type) {
    case 'leased':
      return update(state, event.tokenId, (token) =>
        // Timestamps share one format, so comparing the strings compares the instants.
        token.leasedAt && token.leasedAt > event.leasedAt
          ? undefined
          : {
              ...token,
              status: 'active',
              userId: event.userId,
              leasedAt: event.leasedAt,
              expiresAt: event.expiresAt,
              fence: event.fence,
              metadata: event.metadata,
            },
      );
    case 'released':
    case 'expired':
    case 'evicted':
      return update(state, event.tokenId, (token) => (token.userId === event.userId ? free(token) : undefined));
    case 'cleared': {
      let next = state;
      for (const tokenId of event.tokenIds) next = update(next, tokenId, (token) => free(token));
      return next;
    }
    case 'waiting':
      return { ...state, waiting: event.waiting };
  }
}

export function countPool(state: PoolState): { active: number; available: number } {
  const active = state.tokens.filter((token) => token.status === 'active').length;
  return { active, available: state.tokens.length - active };
}
