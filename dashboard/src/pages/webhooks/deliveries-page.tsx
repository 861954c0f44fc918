import type { WebhookDelivery } from '../../api/types.js';
import { Page } from '../../components/page.js';
import { type Column, PagedTable, usePagedList } from '../../components/paged-table.js';
import { formatDateTime } from '../../format.js';
import { Link } from '../../router.js';

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
  const list = usePagedList<WebhookDelivery>(`/webhooks/${id}/deliveries`, { page });
  return (
    <Page title="Deliveries" actions={<Link href="/webhooks">All webhooks</Link>}>
      <PagedTable
        label="Deliveries"
        caption="Deliveries to this endpoint, newest first"
        resource={list}
        columns={COLUMNS}
        empty="Nothing sent yet: deliveries appear here with the next pool event."
      />
    </Page>
  );
}
