import { ApiError } from '../../api/errors.js';
import { useAction } from '../../hooks.js';

/** A form's submit: one request at a time, its error kept for the fields and the message. */
export function useSubmit(action: () => Promise<void>) {
  const { busy, error, run } = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void run(action);
  };
  const fieldError = (name: string) => (error instanceof ApiError ? error.field(name) : undefined);
  return { busy, error, submit, fieldError };
}
