import { useState } from 'preact/hooks';
import { readJson, send } from '../../api/http.js';
import { ErrorMessage, Notice } from '../../components/feedback.js';
import { Field } from '../../components/field.js';
import { Link } from '../../router.js';
import { AuthCard } from './auth-card.js';
import { FormSubmit } from './form-submit.js';
import { useSubmit } from './use-form.js';

const MIN_LENGTH = 8;
const MAX_LENGTH = 128;

export function ResetPassword({ token }: { token: string | null }) {
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [done, setDone] = useState(false);
  const [mismatch, setMismatch] = useState(false);
  const { busy, error, submit, fieldError } = useSubmit(async () => {
    setMismatch(password !== confirm);
    if (password !== confirm) return;
    await readJson(await send('POST', '/auth/reset-password', { body: { token, password } }));
    setDone(true);
  });

  const askAgain = <Link href="/forgot-password">Ask for a new link</Link>;
  if (!token) {
    return (
      <AuthCard title="Choose a new password" aside={askAgain}>
        <ErrorMessage error={new Error('This page needs the link from the e-mail; it carries a token.')} />
      </AuthCard>
    );
  }
  return (
    <AuthCard
      title="Choose a new password"
      aside={done ? <Link href="/">Sign in with the new password</Link> : askAgain}
    >
      {done ? (
        <Notice tone="success">Your password is changed, and every session you had is signed out.</Notice>
      ) : (
        <form onSubmit={submit}>
          <Field
            name="password"
            label="New password"
            type="password"
            autoComplete="new-password"
            required
            minLength={MIN_LENGTH}
            maxLength={MAX_LENGTH}
            hint={`${MIN_LENGTH} to ${MAX_LENGTH} characters.`}
            value={password}
            onValue={setPassword}
            error={fieldError('password')}
          />
          <Field
            name="confirm"
            label="The same password again"
            type="password"
            autoComplete="new-password"
            required
            value={confirm}
            onValue={setConfirm}
            error={mismatch ? 'The two passwords differ.' : undefined}
          />
          <FormSubmit busy={busy} error={error} busyLabel="Saving…" label="Save the new password" />
        </form>
      )}
    </AuthCard>
  );
}
