import type { ImportStatus } from '../../api/types.js';
import { Page } from '../../components/page.js';
import { type Column, PagedTable, usePagedList } from '../../components/paged-table.js';
import { formatDateTime } from '../../format.js';
import { Link } from '../../router.js';
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
  const list = usePagedList<ImportStatus>('/users/imports', { page });
  return (
    <Page title="Imports">
      <UploadForm />
      <h2>Past imports</h2>
      <PagedTable
        label="Imports"
        caption="Imports, newest first"
        resource={list}
        columns={COLUMNS}
        empty="No imports yet. Upload a CSV above."
      />
    </Page>
  );
}
