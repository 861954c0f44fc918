import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import { problemOf } from '../../api/errors.js';
import { sendAuthorized } from '../../api/session.js';
import { openStream } from '../../api/streams.js';
import type { ImportStatus } from '../../api/types.js';
import { Counts } from '../../components/counts.js';
import { Empty, ErrorMessage, Loading } from '../../components/feedback.js';
import { Page } from '../../components/page.js';
import { formatDateTime } from '../../format.js';
import { Link } from '../../router.js';
import { StatusBadge } from './status-badge.js';

const finished = (status: ImportStatus | undefined) => status?.status === 'completed' || status?.status === 'failed';

/** The import, loaded once and then kept current by its event stream until it ends. */
function useImport(id: string): { status: ImportStatus | undefined; error: unknown; live: boolean } {
  const [status, setStatus] = useState<ImportStatus>();
  const [error, setError] = useState<unknown>();
  const [live, setLive] = useState(false);
  useEffect(() => {
    let stop: (() => void) | undefined;
    let stopped = false;
    const show = (next: ImportStatus) => {
      setStatus(next);
      if (finished(next)) {
        stop?.();
        setLive(false);
      }
    };
    api<ImportStatus>('GET', `/users/imports/${id}`).then(
      (first) => {
        if (stopped) return;
        show(first);
        if (finished(first)) return;
        stop = openStream(`/users/imports/${id}/events`, ['progress'], {
          onOpen: () => setLive(true),
          onEvent: (_type, data) => show(data as ImportStatus),
          onDown: () => setLive(false),
        });
      },
      (caught: unknown) => !stopped && setError(caught),
    );
    return () => {
      stopped = true;
      stop?.();
    };
  }, [id]);
  return { status, error, live };
}

/** errors.csv needs the Authorization header, so it is fetched and handed to the browser as a file. */
async function downloadErrors(id: string): Promise<void> {
  const response = await sendAuthorized('GET', `/users/imports/${id}/errors.csv`);
  if (!response.ok) throw await problemOf(response);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = `import-${id}-errors.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ImportPage({ id }: { id: string }) {
  const { status, error, live } = useImport(id);
  const [downloadError, setDownloadError] = useState<unknown>();
  const done = finished(status);
  return (
    <Page title={status ? `Import of ${status.fileName}` : 'Import'} actions={<Link href="/imports">All imports</Link>}>
      <ErrorMessage error={error} />
      {!status && !error ? <Loading label="Loading the import…" /> : null}
      {status ? (
        <>
          <section class="panel" aria-label="Progress">
            <p class="progress-line">
              <StatusBadge status={status.status} />
              {live ? <span class="live on">Live</span> : null}
              <span>
                {status.processedRows.toLocaleString()}
                {status.totalRows === null ? '' : ` of ${status.totalRows.toLocaleString()}`} rows read
              </span>
            </p>
            <div
              class="progress"
              role="progressbar"
              aria-label="Import progress"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={status.percent}
            >
              <div class={`progress-fill ${status.status}`} style={{ width: `${status.percent}%` }} />
              <span class="progress-text">{status.percent} %</span>
            </div>
            <Counts
              items={[
                { name: 'created', label: 'Created', value: status.createdRows },
                { name: 'duplicate', label: 'Duplicates', value: status.duplicateRows },
                { name: 'invalid', label: 'Invalid', value: status.invalidRows },
              ]}
            />
            <p class="muted">
              Uploaded {formatDateTime(status.createdAt)}
              {status.finishedAt ? ` · finished ${formatDateTime(status.finishedAt)}` : ''}
            </p>
            {status.failureReason ? (
              <div class="message error" role="alert">
                <strong>The import failed</strong>
                <p>{status.failureReason}</p>
              </div>
            ) : null}
          </section>

          {done ? (
            <section aria-labelledby="bad-rows">
              <div class="page-head">
                <h2 id="bad-rows">Bad rows</h2>
                {status.invalidRows > 0 ? (
                  <button type="button" class="secondary" onClick={() => downloadErrors(id).catch(setDownloadError)}>
                    Download errors.csv
                  </button>
                ) : null}
              </div>
              <ErrorMessage error={downloadError} />
              {status.errors.length === 0 ? <Empty>Every row was read without error.</Empty> : null}
              {status.errors.length > 0 ? (
                <div class="table-wrap">
                  <table>
                    <caption class="visually-hidden">Rows that were skipped, with their line in the file</caption>
                    <thead>
                      <tr>
                        <th scope="col" class="number">
                          Line
                        </th>
                        <th scope="col">Why it was skipped</th>
                      </tr>
                    </thead>
                    <tbody>
                      {status.errors.map((row) => (
                        <tr key={row.line}>
                          <td class="number">{row.line}</td>
                          <td>{row.message}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              ) : null}
              {status.invalidRows > status.errors.length ? (
                <p class="muted">
                  The first {status.errors.length.toLocaleString()} of {status.invalidRows.toLocaleString()} bad rows
                  are listed here.
                </p>
              ) : null}
            </section>
          ) : null}
        </>
      ) : null}
    </Page>
  );
}
