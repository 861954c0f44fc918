import { useState } from 'preact/hooks';
import { session } from '../../api/session.js';
import { Notice } from '../../components/feedback.js';
import { EmailField, Field } from '../../components/field.js';
import { Link } from '../../router.js';
import { AuthCard } from './auth-card.js';
import { FormSubmit } from './form-submit.js';
import { useSubmit } from './use-form.js';

export function SignIn({ notice }: { notice: string | null }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit, fieldError } = useSubmit(() => session.signIn(email, password));
  return (
    <AuthCard title="Sign in" aside={<Link href="/forgot-password">Forgot your password?</Link>}>
      {notice && !error ? <Notice>{notice}</Notice> : null}
      <form onSubmit={submit} noValidate={false}>
        <EmailField value={email} onValue={setEmail} error={fieldError('email')} />
        <Field
          name="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onValue={setPassword}
          error={fieldError('password')}
        />
        <FormSubmit busy={busy} error={error} busyLabel="Signing in…" label="Sign in" />
      </form>
    </AuthCard>
  );
}
