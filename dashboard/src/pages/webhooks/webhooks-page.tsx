import { useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import type { WebhookEndpoint } from '../../api/types.js';
import { Confirm } from '../../components/confirm.js';
import { ErrorMessage } from '../../components/feedback.js';
import { Page } from '../../components/page.js';
import { type Column, PagedTable, usePagedList } from '../../components/paged-table.js';
import { formatDateTime } from '../../format.js';
import { useAction } from '../../hooks.js';
import { Link } from '../../router.js';
import { WebhookForm } from './webhook-form.js';

export function WebhooksPage({ page }: { page: number }) {
  // Bumped after a change, so the list is loaded again.
  const [version, setVersion] = useState(0);
  const [deleting, setDeleting] = useState<WebhookEndpoint>();
  const removal = useAction();
  const list = usePagedList<WebhookEndpoint>('/webhooks', { page }, version);
  const reload = () => setVersion((value) => value + 1);

  const remove = (endpoint: WebhookEndpoint) =>
    void removal.run(async () => {
      await api('DELETE', `/webhooks/${endpoint.id}`);
      reload();
    });

  const columns: Column<WebhookEndpoint>[] = [
    { header: 'URL', code: true, cell: (item) => <Link href={`/webhooks/${item.id}`}>{item.url}</Link> },
    { header: 'Events', cell: (item) => item.events.join(', ') },
    { header: 'Description', cell: (item) => item.description ?? '—' },
    { header: 'Registered', cell: (item) => formatDateTime(item.createdAt) },
    {
      header: <span class="visually-hidden">Actions</span>,
      cell: (item) => (
        <button type="button" class="danger" disabled={removal.busy} onClick={() => setDeleting(item)}>
          Delete<span class="visually-hidden"> {item.url}</span>
        </button>
      ),
    },
  ];

  return (
    <Page title="Webhooks">
      <WebhookForm onCreated={reload} />
      <h2>Endpoints</h2>
      <ErrorMessage error={removal.error} />
      <PagedTable
        label="Webhooks"
        caption="Webhook endpoints, newest first"
        resource={list}
        columns={columns}
        empty="No endpoint yet. Register one above to hear every pool event."
      />
      <Confirm
        open={deleting !== undefined}
        title="Delete this endpoint?"
        confirmLabel="Delete"
        onConfirm={() => deleting && remove(deleting)}
        onCancel={() => setDeleting(undefined)}
      >
        <p>
          Nothing more is sent to <code class="mono">{deleting?.url}</code>, not even what is still pending.
        </p>
      </Confirm>
    </Page>
  );
}
