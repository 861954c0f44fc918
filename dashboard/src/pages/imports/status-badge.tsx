import type { ImportStatus } from '../../api/types.js';

const LABELS: Record<ImportStatus['status'], string> = {
  queued: 'queued',
  processing: 'importing',
  completed: 'completed',
  failed: 'failed',
};

export function StatusBadge({ status, percent }: { status: ImportStatus['status']; percent?: number }) {
  return (
    <span class={`badge ${status}`}>
      {LABELS[status]}
      {status === 'processing' && percent !== undefined ? ` ${percent} %` : ''}
    </span>
  );
}
