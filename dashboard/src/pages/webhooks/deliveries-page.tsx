import { api, withQuery } from '../../api/client.js';
import type { Page as ApiPage, WebhookDelivery } from '../../api/types.js';
import { Page } from '../../components/page.js';
import { type Column, PagedTable } from '../../components/paged-table.js';
import { formatDateTime } from '../../format.js';
import { useResource } from '../../hooks.js';
import { Link, navigate } from '../../router.js';

const COLUMNS: Column<WebhookDelivery>[] = [
  { header: 'Event', code: true, cell: (item) => item.event },
  { header: 'Status', cell: (item) => <span class={`badge ${item.status}`}>{item.status}</span> },
  { header: 'Attempts', numeric: true, cell: (item) => item.attempts },
  { header: 'Last answer', numeric: true, cell: (item) => item.lastStatus ?? '—' },
  { header: 'Last error', cell: (item) => item.lastError ?? '—' },
  { header: 'Created', cell: (item) => formatDateTime(item.createdAt) },
  { header: 'Delivered', cell: (item) => (item.deliveredAt ? formatDateTime(item.deliveredAt) : '—') },
];

/** One endpoint's delivery log, newest first. */
export function DeliveriesPage({ id, page }: { id: string; page: number }) {
  const list = useResource(
    () => api<ApiPage<WebhookDelivery>>('GET', withQuery(`/webhooks/${id}/deliveries`, { page, pageSize: 10 })),
    `${id}:${page}`,
  );
  return (
    <Page title="Deliveries" actions={<Link href="/webhooks">All webhooks</Link>}>
      <PagedTable
        label="Deliveries"
        caption="Deliveries to this endpoint, newest first"
        resource={list}
        columns={COLUMNS}
        rowKey={(item) => item.id}
        empty="Nothing sent yet: deliveries appear here with the next pool event."
        onPage={(next) => navigate(`/webhooks/${id}?page=${next}`)}
      />
    </Page>
  );
}
