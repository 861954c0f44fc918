import { useRef, useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import type { ImportStatus } from '../../api/types.js';
import { ErrorMessage } from '../../components/feedback.js';
import { useAction } from '../../hooks.js';
import { navigate } from '../../router.js';

function sizeOf(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Drop a CSV on the zone or pick one; the upload then opens the import's live page. */
export function UploadForm() {
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File>();
  const [dragging, setDragging] = useState(false);
  const { busy, error, run, dismiss } = useAction();

  const choose = (files: FileList | null | undefined) => {
    dismiss();
    setFile(files?.[0]);
  };

  const upload = (event: Event) => {
    event.preventDefault();
    if (!file) return;
    void run(async () => {
      const form = new FormData();
      form.append('file', file, file.name);
      const created = await api<ImportStatus>('POST', '/users/imports', { form });
      navigate(`/imports/${created.id}`);
    });
  };

  return (
    <form class="panel upload" onSubmit={upload}>
      <label
        for="import-file"
        class={`dropzone ${dragging ? 'dragging' : ''}`}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(event) => {
          event.preventDefault();
          setDragging(false);
          choose(event.dataTransfer?.files);
          if (input.current && event.dataTransfer) input.current.files = event.dataTransfer.files;
        }}
      >
        <strong>{file ? file.name : 'Drop a CSV file here, or choose one'}</strong>
        <span>
          {file
            ? sizeOf(file.size)
            : 'Columns name, email and birth_date (or nome, e-mail, data de nascimento); , or ; separated.'}
        </span>
      </label>
      <input
        ref={input}
        id="import-file"
        class="file-input"
        type="file"
        name="file"
        accept=".csv,text/csv,text/plain"
        onChange={(event) => choose(event.currentTarget.files)}
      />
      <ErrorMessage error={error} />
      <button type="submit" disabled={!file || busy}>
        {busy ? 'Uploading…' : 'Import users'}
      </button>
    </form>
  );
}
