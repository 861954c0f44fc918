import { ErrorMessage } from '../../components/feedback.js';

interface FormSubmitProps {
  busy: boolean;
  error: unknown;
  /** What the button says while the request runs. */
  busyLabel: string;
  label: string;
}

/** The end of an account form: what went wrong last time, above the button that sends it. */
export function FormSubmit({ busy, error, busyLabel, label }: FormSubmitProps) {
  return (
    <>
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>
        {busy ? busyLabel : label}
      </button>
    </>
  );
}
