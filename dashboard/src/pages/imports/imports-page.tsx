import { api, withQuery } from '../../api/client.js';
import type { Page as ApiPage, ImportStatus } from '../../api/types.js';
import { Empty, ErrorMessage, Loading } from '../../components/feedback.js';
import { Page } from '../../components/page.js';
import { Pager } from '../../components/pager.js';
import { formatDateTime } from '../../format.js';
import { useResource } from '../../hooks.js';
import { Link, navigate } from '../../router.js';
import { StatusBadge } from './status-badge.js';
import { UploadForm } from './upload-form.js';

export function ImportsPage({ page }: { page: number }) {
  const list = useResource(
    () => api<ApiPage<ImportStatus>>('GET', withQuery('/users/imports', { page, pageSize: 10 })),
    String(page),
  );
  return (
    <Page title="Imports">
      <UploadForm />
      <h2>Past imports</h2>
      <ErrorMessage error={list.error} />
      {!list.data && !list.error ? <Loading label="Loading imports…" /> : null}
      {list.data && list.data.data.length === 0 ? <Empty>No imports yet. Upload a CSV above.</Empty> : null}
      {list.data && list.data.data.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Imports, newest first</caption>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Status</th>
                <th scope="col" class="number">
                  Created
                </th>
                <th scope="col" class="number">
                  Duplicates
                </th>
                <th scope="col" class="number">
                  Invalid
                </th>
                <th scope="col">Uploaded</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((item) => (
                <tr key={item.id}>
                  <td>
                    <Link href={`/imports/${item.id}`}>{item.fileName}</Link>
                  </td>
                  <td>
                    <StatusBadge status={item.status} percent={item.percent} />
                  </td>
                  <td class="number">{item.createdRows.toLocaleString()}</td>
                  <td class="number">{item.duplicateRows.toLocaleString()}</td>
                  <td class="number">{item.invalidRows.toLocaleString()}</td>
                  <td>{formatDateTime(item.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {list.data ? (
        <Pager meta={list.data.meta} label="Imports" onPage={(next) => navigate(`/imports?page=${next}`)} />
      ) : null}
    </Page>
  );
}
