import type { ComponentChildren } from 'preact';
import { api, withQuery } from '../api/client.js';
import type { Page } from '../api/types.js';
import { type Resource, useResource } from '../hooks.js';
import { navigateToListPage } from '../router.js';
import { Empty, ErrorMessage, Loading } from './feedback.js';
import { Pager } from './pager.js';

export interface Column<T> {
  header: ComponentChildren;
  cell(row: T): ComponentChildren;
  /** Right-aligned, with figures of one width. */
  numeric?: boolean;
  /** Monospaced and kept on one line. */
  code?: boolean;
}

interface PagedTableBase<T> {
  /** What the rows are, for a screen reader and for the pager's name. */
  label: string;
  caption: string;
  resource: Resource<Page<T>>;
  columns: Column<T>[];
  empty: ComponentChildren;
  /** @defaultValue this dashboard page, at that page of the list (`navigateToListPage`) */
  onPage?(page: number): void;
}

/** Rows with an `id` are keyed by it unless told otherwise; other rows must say their key. */
type PagedTableProps<T> = PagedTableBase<T> &
  (T extends { id: string } ? { rowKey?(row: T): string } : { rowKey(row: T): string });

const PAGE_SIZE = 10;

/**
 * A page of the list the API serves at `path`, `PAGE_SIZE` rows long, loaded again when the page,
 * a filter in `query` or `version` (bumped by a page that changed the list) changes.
 */
export function usePagedList<T>(path: string, query: { page: number } & Record<string, string | number>, version = 0) {
  const url = withQuery(path, { ...query, pageSize: PAGE_SIZE });
  return useResource(() => api<Page<T>>('GET', url), `${url}#${version}`);
}

// Only rows with an `id` may leave `rowKey` out (PagedTableProps says so).
const byId = (row: unknown) => (row as { id: string }).id;

/** A page of a list from the API: its error, its loading and empty states, the table and the pager. */
export function PagedTable<T>({
  label,
  caption,
  resource,
  columns,
  rowKey = byId,
  empty,
  onPage = navigateToListPage,
}: PagedTableProps<T>) {
  const { data, error, loading } = resource;
  const cellClass = (column: Column<T>) => [column.numeric ? 'number' : '', column.code ? 'mono' : ''].join(' ').trim();
  return (
    <>
      <ErrorMessage error={error} />
      {!data && !error ? <Loading label={`Loading ${label.toLowerCase()}…`} /> : null}
      {data && data.data.length === 0 ? <Empty>{empty}</Empty> : null}
      {data && data.data.length > 0 ? (
        <div class="table-wrap" aria-busy={loading}>
          <table>
            <caption class="visually-hidden">{caption}</caption>
            <thead>
              <tr>
                {columns.map((column, index) => (
                  <th key={index} scope="col" class={column.numeric ? 'number' : undefined}>
                    {column.header}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.data.map((row) => (
                <tr key={rowKey(row)}>
                  {columns.map((column, index) => (
                    <td key={index} class={cellClass(column) || undefined}>
                      {column.cell(row)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {data ? <Pager meta={data.meta} label={label} onPage={onPage} /> : null}
    </>
  );
}
