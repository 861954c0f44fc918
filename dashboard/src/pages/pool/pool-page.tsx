import { useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import type { Lease, Token, User } from '../../api/types.js';
import { Confirm } from '../../components/confirm.js';
import { Counts } from '../../components/counts.js';
import { Empty, ErrorMessage, Loading, Notice } from '../../components/feedback.js';
import { Page } from '../../components/page.js';
import { countdown, formatTime, plural, shortId } from '../../format.js';
import { useAction, useNow } from '../../hooks.js';
import { Link } from '../../router.js';
import { countPool } from './pool-state.js';
import { usePool } from './use-pool.js';

/** Cells drawn at once; a pool larger than this is shown a slice at a time. */
const CELLS_PER_SLICE = 500;

function holderLabel(token: Token, me: User): string {
  if (!token.userId) return 'free';
  return token.userId === me.id ? 'you' : shortId(token.userId);
}

function TokenCell({ token, me, now }: { token: Token; me: User; now: number }) {
  const mine = token.userId === me.id;
  const held = token.status === 'active' && token.expiresAt;
  const left = held ? countdown(token.expiresAt as string, now) : '';
  const ending = held && left === '0:00';
  const state = held ? (mine ? 'mine' : 'held') : 'free';
  const description = held
    ? `Token ${shortId(token.id)}, held by ${mine ? 'you' : `user ${shortId(token.userId ?? '')}`} under fence ${token.fence}, ${ending ? 'ending now' : `${left} left`}`
    : `Token ${shortId(token.id)}, free`;
  return (
    <li>
      <Link
        href={`/tokens/${token.id}`}
        class={`cell ${state}`}
        aria-label={description}
        data-token={token.id}
        data-state={state}
      >
        <span class="cell-id">{shortId(token.id)}</span>
        <span class="cell-holder">{holderLabel(token, me)}</span>
        <span class="cell-time">{held ? (ending ? 'ending…' : left) : ' '}</span>
      </Link>
    </li>
  );
}

export function PoolPage({ me }: { me: User }) {
  const { pool, error, live, apply } = usePool();
  const now = useNow(1000);
  const { busy, error: actionError, run } = useAction();
  const [notice, setNotice] = useState<string>();
  const [confirming, setConfirming] = useState(false);
  const [slice, setSlice] = useState(0);

  /** Runs an action of the panel; what it answers, if anything, is shown under the buttons. */
  const act = (action: () => Promise<string | undefined>) =>
    run(async () => {
      setNotice(undefined);
      setNotice(await action());
    });

  const lease = () =>
    act(async () => {
      const got = await api<Lease>('POST', '/tokens/lease', { body: {} });
      apply({
        type: 'leased',
        tokenId: got.tokenId,
        userId: got.userId,
        leasedAt: got.leasedAt,
        expiresAt: got.expiresAt,
        fence: got.fence,
        metadata: got.metadata,
      });
      return got.evictedUserId
        ? `The pool was full: the oldest lease (user ${shortId(got.evictedUserId)}) was ended to make room for yours.`
        : undefined;
    });

  const release = (token: Token) =>
    act(async () => {
      await api('POST', `/tokens/${token.id}/release`);
      apply({ type: 'released', tokenId: token.id, userId: me.id, endedAt: new Date().toISOString() });
      return `Token ${shortId(token.id)} is back in the pool.`;
    });

  const clear = () => {
    setConfirming(false);
    return act(async () => {
      const { released } = await api<{ released: number }>('DELETE', '/tokens/active');
      return `Cleared ${plural(released, 'lease')}.`;
    });
  };

  const mine = pool?.tokens.find((token) => token.status === 'active' && token.userId === me.id);
  const counts = pool ? countPool(pool) : undefined;
  const slices = pool ? Math.ceil(pool.tokens.length / CELLS_PER_SLICE) : 0;
  const shown = pool?.tokens.slice(slice * CELLS_PER_SLICE, (slice + 1) * CELLS_PER_SLICE) ?? [];

  return (
    <Page
      title="Pool"
      actions={
        <span class={`live ${live ? 'on' : 'off'}`} role="status">
          {live ? 'Live' : 'Connecting…'}
        </span>
      }
    >
      <section class="panel lease-panel" aria-label="Your lease">
        {mine ? (
          <p>
            You hold token <Link href={`/tokens/${mine.id}`}>{shortId(mine.id)}</Link> under fence{' '}
            <span class="mono">{mine.fence}</span> until {formatTime(mine.expiresAt as string)} ·{' '}
            <strong class="countdown">{countdown(mine.expiresAt as string, now)} left</strong>
          </p>
        ) : (
          <p>You hold no token.</p>
        )}
        <div class="actions">
          {mine ? (
            <button type="button" disabled={busy} onClick={() => release(mine)}>
              Release my token
            </button>
          ) : (
            <button type="button" disabled={busy || !pool} onClick={lease}>
              Lease a token
            </button>
          )}
          {me.role === 'admin' ? (
            <button type="button" class="danger" disabled={busy || !counts?.active} onClick={() => setConfirming(true)}>
              Clear all leases
            </button>
          ) : null}
        </div>
        {notice ? <Notice tone="success">{notice}</Notice> : null}
        <ErrorMessage error={actionError} />
      </section>

      <ErrorMessage error={error} />
      {!pool && !error ? <Loading label="Loading the pool…" /> : null}
      {pool && counts ? (
        <>
          <Counts
            items={[
              { name: 'active', label: 'Held', value: counts.active },
              { name: 'available', label: 'Free', value: counts.available },
              { name: 'total', label: 'Tokens', value: pool.tokens.length },
              { name: 'waiting', label: 'Waiting', value: pool.waiting },
            ]}
          />
          <p class="legend" aria-hidden="true">
            <span class="swatch free" /> free <span class="swatch held" /> held <span class="swatch mine" /> yours
          </p>
          {pool.tokens.length === 0 ? <Empty>The pool has no tokens.</Empty> : null}
          {slices > 1 ? (
            <nav class="pager" aria-label="Pool slices">
              <button type="button" class="secondary" disabled={slice === 0} onClick={() => setSlice(slice - 1)}>
                Previous
              </button>
              <span>
                Tokens {(slice * CELLS_PER_SLICE + 1).toLocaleString()}–
                {Math.min(pool.tokens.length, (slice + 1) * CELLS_PER_SLICE).toLocaleString()}
              </span>
              <button
                type="button"
                class="secondary"
                disabled={slice >= slices - 1}
                onClick={() => setSlice(slice + 1)}
              >
                Next
              </button>
            </nav>
          ) : null}
          <ul class="grid" aria-label="Tokens">
            {shown.map((token) => (
              <TokenCell key={token.id} token={token} me={me} now={now} />
            ))}
          </ul>
        </>
      ) : null}

      <Confirm
        open={confirming}
        title="Clear every lease?"
        confirmLabel="Clear all leases"
        onConfirm={clear}
        onCancel={() => setConfirming(false)}
      >
        <p>
          This ends all {plural(counts?.active ?? 0, 'active lease')} at once, as <em>cleared</em>. Their holders lose
          their tokens.
        </p>
      </Confirm>
    </Page>
  );
}
