import { api } from '../../api/client.js';
import type { AuditDetail } from '../../api/types.js';
import { ErrorMessage, Loading } from '../../components/feedback.js';
import { Page } from '../../components/page.js';
import { formatDateTime } from '../../format.js';
import { useResource } from '../../hooks.js';
import { Link } from '../../router.js';

export function AuditEntryPage({ id }: { id: string }) {
  const entry = useResource(() => api<AuditDetail>('GET', `/logs/${id}`), id);
  const data = entry.data;
  return (
    <Page title={data ? data.action : 'Audit entry'} actions={<Link href="/audit">Back to the audit log</Link>}>
      <ErrorMessage error={entry.error} />
      {entry.loading && !data ? <Loading /> : null}
      {data ? (
        <dl class="details">
          <dt>When</dt>
          <dd>{formatDateTime(data.createdAt)}</dd>
          <dt>Action</dt>
          <dd class="mono">{data.action}</dd>
          <dt>User</dt>
          <dd>
            {data.user ? `${data.user.name} <${data.user.email}>` : 'none (a background job or an anonymous caller)'}
          </dd>
          <dt>Target</dt>
          <dd class="mono">{data.target ? `${data.target.type} ${data.target.id}` : '—'}</dd>
          <dt>IP address</dt>
          <dd>{data.ip ?? '—'}</dd>
          <dt>User agent</dt>
          <dd>{data.userAgent ?? '—'}</dd>
          <dt>Request id</dt>
          <dd class="mono">{data.requestId ?? '—'}</dd>
          <dt>Details</dt>
          <dd>
            {Object.keys(data.metadata).length > 0 ? (
              <pre class="metadata">{JSON.stringify(data.metadata, null, 2)}</pre>
            ) : (
              '—'
            )}
          </dd>
        </dl>
      ) : null}
    </Page>
  );
}
