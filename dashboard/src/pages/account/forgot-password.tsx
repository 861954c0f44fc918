import { useState } from 'preact/hooks';
import { readJson, send } from '../../api/http.js';
import { Notice } from '../../components/feedback.js';
import { EmailField } from '../../components/field.js';
import { Link } from '../../router.js';
import { AuthCard } from './auth-card.js';
import { FormSubmit } from './form-submit.js';
import { useSubmit } from './use-form.js';

export function ForgotPassword() {
  const [email, setEmail] = useState('');
  const [sentTo, setSentTo] = useState<string>();
  const { busy, error, submit, fieldError } = useSubmit(async () => {
    await readJson(await send('POST', '/auth/forgot-password', { body: { email } }));
    setSentTo(email);
  });
  return (
    <AuthCard title="Reset your password" aside={<Link href="/">Back to sign in</Link>}>
      {sentTo ? (
        <Notice tone="success">
          If an account exists for {sentTo}, a link to choose a new password is on its way. It works once, for one hour.
        </Notice>
      ) : (
        <form onSubmit={submit}>
          <p>Enter the e-mail address of your account and we will send you a link to choose a new password.</p>
          <EmailField value={email} onValue={setEmail} error={fieldError('email')} />
          <FormSubmit busy={busy} error={error} busyLabel="Sending…" label="Send the link" />
        </form>
      )}
    </AuthCard>
  );
}
