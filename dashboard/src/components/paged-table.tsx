import type { ComponentChildren } from 'preact';
import type { Page } from '../api/types.js';
import type { Resource } from '../hooks.js';
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

interface PagedTableProps<T> {
  /** What the rows are, for a screen reader and for the pager's name. */
  label: string;
  caption: string;
  resource: Resource<Page<T>>;
  columns: Column<T>[];
  rowKey(row: T): string;
  empty: ComponentChildren;
  onPage(page: number): void;
}

/** A page of a list from the API: its error, its loading and empty states, the table and the pager. */
export function PagedTable<T>({ label, caption, resource, columns, rowKey, empty, onPage }: PagedTableProps<T>) {
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
