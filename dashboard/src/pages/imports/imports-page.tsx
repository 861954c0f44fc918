import { api, withQuery } from '../../api/client.js';
import type { Page as ApiPage, ImportStatus } from '../../api/types.js';
import { Page } from '../../components/page.js';
import { type Column, PagedTable } from '../../components/paged-table.js';
import { formatDateTime } from '../../format.js';
import { useResource } from '../../hooks.js';
import { Link, navigate } from '../../router.js';
import { StatusBadge } from './status-badge.js';
import { UploadForm } from './upload-form.js';

const COLUMNS: Column<ImportStatus>[] = [
  { header: 'File', cell: (item) => <Link href={`/imports/${item.id}`}>{item.fileName}</Link> },
  { header: 'Status', cell: (item) => <StatusBadge status={item.status} percent={item.percent} /> },
  { header: 'Created', numeric: true, cell: (item) => item.createdRows.toLocaleString() },
  { header: 'Duplicates', numeric: true, cell: (item) => item.duplicateRows.toLocaleString() },
  { header: 'Invalid', numeric: true, cell: (item) => item.invalidRows.toLocaleString() },
  { header: 'Uploaded', cell: (item) => formatDateTime(item.createdAt) },
];

export function ImportsPage({ page }: { page: number }) {
  const list = useResource(
    () => api<ApiPage<ImportStatus>>('GET', withQuery('/users/imports', { page, pageSize: 10 })),
    String(page),
  );
  return (
    <Page title="Imports">
      <UploadForm />
      <h2>Past imports</h2>
      <PagedTable
        label="Imports"
        caption="Imports, newest first"
        resource={list}
        columns={COLUMNS}
        rowKey={(item) => item.id}
        empty="No imports yet. Upload a CSV above."
        onPage={(next) => navigate(`/imports?page=${next}`)}
      />
    </Page>
  );
}
