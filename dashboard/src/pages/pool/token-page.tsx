import { useEffect, useState } from 'preact/hooks';
import { TOKEN_EVENT_TYPES } from '../../../../src/modules/tokens/token-events.js';
import { api } from '../../api/client.js';
import { openStream } from '../../api/streams.js';
import type { HistoryEntry, TokenDetail, TokenEvent, User } from '../../api/types.js';
import { ErrorMessage, Loading } from '../../components/feedback.js';
import { Page } from '../../components/page.js';
import { type Column, PagedTable, usePagedList } from '../../components/paged-table.js';
import { countdown, formatDateTime, shortId } from '../../format.js';
import { useNow, useResource } from '../../hooks.js';
import { Link } from '../../router.js';

const REASONS: Record<string, string> = {
  expired: 'expired',
  released: 'released',
  evicted: 'evicted (pool full)',
  cleared: 'cleared by an admin',
};

function concerns(event: TokenEvent, tokenId: string): boolean {
  if (event.type === 'waiting') return false;
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
  const history = usePagedList<HistoryEntry>(`/tokens/${id}/history`, { page }, changes);

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

  const columns: Column<HistoryEntry>[] = [
    { header: 'Holder', cell: (entry) => who(entry.userId, me) },
    { header: 'Fence', cell: (entry) => <span class="mono">{entry.fence}</span> },
    { header: 'Leased at', cell: (entry) => formatDateTime(entry.leasedAt) },
    { header: 'Ended at', cell: (entry) => formatDateTime(entry.endedAt) },
    { header: 'How it ended', cell: (entry) => (entry.endReason ? REASONS[entry.endReason] : 'still held') },
  ];

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
          <dt>Fence</dt>
          <dd class="mono">{detail.fence ?? '—'}</dd>
          <dt>Metadata</dt>
          <dd>{detail.metadata ? <code>{JSON.stringify(detail.metadata)}</code> : '—'}</dd>
        </dl>
      ) : null}

      <h2>History</h2>
      <PagedTable
        label="History"
        caption="Leases of this token, newest first"
        resource={history}
        columns={columns}
        rowKey={(entry) => String(entry.fence)}
        empty="Nobody has leased this token yet."
        onPage={setPage}
      />
    </Page>
  );
}
