import type { Page } from '../api/types.js';

interface PagerProps {
  meta: Page<unknown>['meta'];
  onPage(page: number): void;
  label: string;
}

export function Pager({ meta, onPage, label }: PagerProps) {
  if (meta.total === 0) return null;
  const last = Math.max(1, meta.totalPages);
  if (last === 1) return <p class="muted">{meta.total.toLocaleString()} in all</p>;
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" class="secondary" disabled={meta.page <= 1} onClick={() => onPage(meta.page - 1)}>
        Previous
      </button>
      <span aria-live="polite">
        Page {meta.page.toLocaleString()} of {last.toLocaleString()} · {meta.total.toLocaleString()} in all
      </span>
      <button type="button" class="secondary" disabled={meta.page >= last} onClick={() => onPage(meta.page + 1)}>
        Next
      </button>
    </nav>
  );
}
