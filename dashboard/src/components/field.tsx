import type { InputHTMLAttributes } from 'preact';

interface FieldProps {
  name: string;
  type?: 'email' | 'password' | 'text' | 'number';
  autoComplete?: string;
  required?: boolean;
  minLength?: number;
  maxLength?: number;
  min?: number;
  max?: number;
  label: string;
  value: string;
  onValue(value: string): void;
  error?: string | undefined;
  hint?: string;
}

/** A labelled input whose error and hint are read out with it. */
export function Field({ name, label, value, onValue, error, hint, type = 'text', ...input }: FieldProps) {
  const id = `field-${name}`;
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  // Preact types each input `type` with its own attributes; these four share all the ones used here.
  const attributes = { ...input, type } as InputHTMLAttributes<HTMLInputElement>;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        {...attributes}
        id={id}
        name={name}
        value={value}
        onInput={(event) => onValue(event.currentTarget.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={described || undefined}
      />
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** The account's e-mail, as the sign-in and forgot-password forms ask for it. */
export function EmailField(props: Pick<FieldProps, 'value' | 'onValue' | 'error'>) {
  return <Field name="email" label="E-mail" type="email" autoComplete="username" required {...props} />;
}
