import { api, withQuery } from '../api/client.js';
import type { Page as ApiPage, User } from '../api/types.js';
import { Page } from '../components/page.js';
import { type Column, PagedTable } from '../components/paged-table.js';
import { formatDateTime } from '../format.js';
import { useResource } from '../hooks.js';
import { navigate } from '../router.js';

const PAGE_SIZE = 10;

const COLUMNS: Column<User>[] = [
  { header: 'Name', cell: (user) => user.name },
  { header: 'E-mail', cell: (user) => user.email },
  { header: 'Role', cell: (user) => user.role },
  { header: 'Birth date', cell: (user) => user.birthDate ?? '—' },
  { header: 'E-mail confirmed', cell: (user) => (user.emailVerifiedAt ? formatDateTime(user.emailVerifiedAt) : 'no') },
  { header: 'Joined', cell: (user) => formatDateTime(user.createdAt) },
];

export function UsersPage({ page }: { page: number }) {
  const list = useResource(
    () => api<ApiPage<User>>('GET', withQuery('/users', { page, pageSize: PAGE_SIZE })),
    String(page),
  );
  return (
    <Page title="Users">
      <PagedTable
        label="Users"
        caption="Users, newest first"
        resource={list}
        columns={COLUMNS}
        rowKey={(user) => user.id}
        empty="No users on this page."
        onPage={(next) => navigate(`/users?page=${next}`)}
      />
    </Page>
  );
}
