import { api, withQuery } from '../api/client.js';
import type { Page as ApiPage, User } from '../api/types.js';
import { Empty, ErrorMessage, Loading } from '../components/feedback.js';
import { Page } from '../components/page.js';
import { Pager } from '../components/pager.js';
import { formatDateTime } from '../format.js';
import { useResource } from '../hooks.js';
import { navigate } from '../router.js';

const PAGE_SIZE = 10;

export function UsersPage({ page }: { page: number }) {
  const list = useResource(
    () => api<ApiPage<User>>('GET', withQuery('/users', { page, pageSize: PAGE_SIZE })),
    String(page),
  );
  return (
    <Page title="Users">
      <ErrorMessage error={list.error} />
      {!list.data && !list.error ? <Loading label="Loading users…" /> : null}
      {list.data && list.data.data.length === 0 ? <Empty>No users on this page.</Empty> : null}
      {list.data && list.data.data.length > 0 ? (
        <div class="table-wrap" aria-busy={list.loading}>
          <table>
            <caption class="visually-hidden">Users, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">E-mail</th>
                <th scope="col">Role</th>
                <th scope="col">Birth date</th>
                <th scope="col">E-mail confirmed</th>
                <th scope="col">Joined</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((user) => (
                <tr key={user.id}>
                  <td>{user.name}</td>
                  <td>{user.email}</td>
                  <td>{user.role}</td>
                  <td>{user.birthDate ?? '—'}</td>
                  <td>{user.emailVerifiedAt ? formatDateTime(user.emailVerifiedAt) : 'no'}</td>
                  <td>{formatDateTime(user.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {list.data ? (
        <Pager meta={list.data.meta} label="Users" onPage={(next) => navigate(`/users?page=${next}`)} />
      ) : null}
    </Page>
  );
}
