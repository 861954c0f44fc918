import type { User } from '../api/types.js';
import { Page } from '../components/page.js';
import { type Column, PagedTable, usePagedList } from '../components/paged-table.js';
import { formatDateTime } from '../format.js';

const COLUMNS: Column<User>[] = [
  { header: 'Name', cell: (user) => user.name },
  { header: 'E-mail', cell: (user) => user.email },
  { header: 'Role', cell: (user) => user.role },
  { header: 'Birth date', cell: (user) => user.birthDate ?? '—' },
  { header: 'E-mail confirmed', cell: (user) => (user.emailVerifiedAt ? formatDateTime(user.emailVerifiedAt) : 'no') },
  { header: 'Joined', cell: (user) => formatDateTime(user.createdAt) },
];

export function UsersPage({ page }: { page: number }) {
  const list = usePagedList<User>('/users', { page });
  return (
    <Page title="Users">
      <PagedTable
        label="Users"
        caption="Users, newest first"
        resource={list}
        columns={COLUMNS}
        empty="No users on this page."
      />
    </Page>
  );
}
