import { readJson, send } from '../../api/http.js';
import { ErrorMessage, Loading, Notice } from '../../components/feedback.js';
import { useResource } from '../../hooks.js';
import { Link } from '../../router.js';
import { AuthCard } from './auth-card.js';

export function VerifyEmail({ token }: { token: string | null }) {
  const result = useResource(async () => {
    if (!token) throw new Error('This page needs the link from the welcome e-mail; it carries a token.');
    await readJson(await send('POST', '/auth/verify-email', { body: { token } }));
    return true;
  }, token ?? '');
  return (
    <AuthCard title="Confirm your e-mail" aside={<Link href="/">Go to the dashboard</Link>}>
      {result.loading ? <Loading label="Confirming…" /> : null}
      {result.data ? <Notice tone="success">Your e-mail address is confirmed. Thank you.</Notice> : null}
      <ErrorMessage error={result.error} />
    </AuthCard>
  );
}
