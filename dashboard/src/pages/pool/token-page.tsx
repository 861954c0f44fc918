import { useEffect, useState } from 'preact/hooks';
import { api, withQuery } from '../../api/client.js';
import { openStream } from '../../api/streams.js';
import type { Page as ApiPage, HistoryEntry, TokenDetail, TokenEvent, User } from '../../api/types.js';
import { Empty, ErrorMessage, Loading } from '../../components/feedback.js';
import { Page } from '../../components/page.js';
import { Pager } from '../../components/pager.js';
import { countdown, formatDateTime, shortId } from '../../format.js';
import { useNow, useResource } from '../../hooks.js';
import { Link } from '../../router.js';
import { TOKEN_EVENT_TYPES } from './use-pool.js';

const REASONS: Record<string, string> = {
  expired: 'expired',
  released: 'released',
  evicted: 'evicted (pool full)',
  cleared: 'cleared by an admin',
};

function concerns(event: TokenEvent, tokenId: string): boolean {
  return event.type === 'cleared' ? event.tokenIds.includes(tokenId) : event.tokenId === tokenId;
}

function who(userId: string | null, me: User) {
  if (!userId) return '—';
  return userId === me.id ? 'you' : <span title={userId}>{shortId(userId)}</span>;
}

export function TokenPage({ id, me }: { id: string; me: User }) {
  const [page, setPage] = useState(1);
  const [changes, setChanges] = useState(0);
  const now = useNow(1000);
  const token = useResource(() => api<TokenDetail>('GET', `/tokens/${id}`), `${id}:${changes}`);
  const history = useResource(
    () => api<ApiPage<HistoryEntry>>('GET', withQuery(`/tokens/${id}/history`, { page })),
    `${id}:${page}:${changes}`,
  );

  // A change to this token loads it and its history again.
  useEffect(
    () =>
      openStream(`/tokens/events`, TOKEN_EVENT_TYPES, {
        onOpen: () => setChanges((count) => count + 1),
        onEvent: (_type, data) => {
          if (concerns(data as TokenEvent, id)) setChanges((count) => count + 1);
        },
      }),
    [id],
  );

  const detail = token.data;
  return (
    <Page title={`Token ${shortId(id)}`} actions={<Link href="/">Back to the pool</Link>}>
      <ErrorMessage error={token.error} />
      {!detail && !token.error ? <Loading /> : null}
      {detail ? (
        <dl class="details">
          <dt>Id</dt>
          <dd class="mono">{detail.id}</dd>
          <dt>Status</dt>
          <dd>{detail.status === 'active' ? 'held' : 'free'}</dd>
          <dt>Holder</dt>
          <dd>{who(detail.userId, me)}</dd>
          <dt>Leased at</dt>
          <dd>{formatDateTime(detail.leasedAt)}</dd>
          <dt>Ends at</dt>
          <dd>
            {formatDateTime(detail.expiresAt)}
            {detail.expiresAt ? ` (${countdown(detail.expiresAt, now)} left)` : ''}
          </dd>
        </dl>
      ) : null}

      <h2>History</h2>
      <ErrorMessage error={history.error} />
      {!history.data && !history.error ? <Loading label="Loading the history…" /> : null}
      {history.data && history.data.data.length === 0 ? <Empty>Nobody has leased this token yet.</Empty> : null}
      {history.data && history.data.data.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Leases of this token, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Holder</th>
                <th scope="col">Leased at</th>
                <th scope="col">Ended at</th>
                <th scope="col">How it ended</th>
              </tr>
            </thead>
            <tbody>
              {history.data.data.map((entry) => (
                <tr key={`${entry.userId}:${entry.leasedAt}`}>
                  <td>{who(entry.userId, me)}</td>
                  <td>{formatDateTime(entry.leasedAt)}</td>
                  <td>{formatDateTime(entry.endedAt)}</td>
                  <td>{entry.endReason ? REASONS[entry.endReason] : 'still held'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {history.data ? <Pager meta={history.data.meta} onPage={setPage} label="History" /> : null}
    </Page>
  );
}
