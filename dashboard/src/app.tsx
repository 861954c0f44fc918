import { DASHBOARD_PAGES as PAGES } from '../../src/web/dashboard-pages.js';
import type { User } from './api/types.js';
import { ErrorMessage, Loading } from './components/feedback.js';
import { Page } from './components/page.js';
import { Header } from './header.js';
import { useSession } from './hooks.js';
import { ForgotPassword } from './pages/account/forgot-password.js';
import { ResetPassword } from './pages/account/reset-password.js';
import { SignIn } from './pages/account/sign-in.js';
import { VerifyEmail } from './pages/account/verify-email.js';
import { ApiKeysPage } from './pages/api-keys/api-keys-page.js';
import { AuditEntryPage } from './pages/audit/audit-entry-page.js';
import { AuditPage } from './pages/audit/audit-page.js';
import { ImportPage } from './pages/imports/import-page.js';
import { ImportsPage } from './pages/imports/imports-page.js';
import { PoolPage } from './pages/pool/pool-page.js';
import { TokenPage } from './pages/pool/token-page.js';
import { UsersPage } from './pages/users-page.js';
import { DeliveriesPage } from './pages/webhooks/deliveries-page.js';
import { WebhooksPage } from './pages/webhooks/webhooks-page.js';
import { type Location, match, useLocation } from './router.js';

const pageNumber = (query: URLSearchParams) => Math.max(1, Number.parseInt(query.get('page') ?? '1', 10) || 1);

/** The pages anyone may open; the e-mailed links land on the last two. */
function publicPage({ path, query }: Location) {
  if (path === PAGES.forgotPassword) return <ForgotPassword />;
  if (path === PAGES.resetPassword) return <ResetPassword token={query.get('token')} />;
  if (path === PAGES.verifyEmail) return <VerifyEmail token={query.get('token')} />;
  return undefined;
}

function signedInPage({ path, query }: Location, me: User) {
  if (path === PAGES.pool) return <PoolPage me={me} />;
  const token = match(PAGES.token, path);
  if (token) return <TokenPage id={token.id as string} me={me} />;
  if (path === PAGES.users) {
    if (me.role !== 'admin') return <Forbidden what="list the users" />;
    return <UsersPage page={pageNumber(query)} />;
  }
  if (path === PAGES.audit) {
    const filters = { page: pageNumber(query), action: query.get('action') ?? '', userId: query.get('userId') ?? '' };
    return <AuditPage filters={filters} me={me} />;
  }
  const entry = match(PAGES.auditEntry, path);
  if (entry) return <AuditEntryPage id={entry.id as string} />;
  if (path === PAGES.imports || match(PAGES.importDetail, path)) {
    if (me.role !== 'admin') return <Forbidden what="import users" />;
    const item = match(PAGES.importDetail, path);
    return item ? <ImportPage id={item.id as string} /> : <ImportsPage page={pageNumber(query)} />;
  }
  if (path === PAGES.webhooks || match(PAGES.webhookDeliveries, path)) {
    if (me.role !== 'admin') return <Forbidden what="manage webhooks" />;
    const item = match(PAGES.webhookDeliveries, path);
    return item ? (
      <DeliveriesPage id={item.id as string} page={pageNumber(query)} />
    ) : (
      <WebhooksPage page={pageNumber(query)} />
    );
  }
  if (path === PAGES.apiKeys) return <ApiKeysPage me={me} page={pageNumber(query)} />;
  return <NotFound />;
}

function NotFound() {
  return (
    <Page title="Page not found">
      <ErrorMessage error={new Error(`There is no page at ${location.pathname}.`)} />
    </Page>
  );
}

function Forbidden({ what }: { what: string }) {
  return (
    <Page title="Admins only">
      <ErrorMessage error={new Error(`Only admins may ${what}. Ask an admin for access.`)} />
    </Page>
  );
}

export function App() {
  const session = useSession();
  const where = useLocation();
  const open = publicPage(where);
  if (session.status === 'starting') {
    return (
      <main id="main" class="auth">
        <Loading label={session.notice ?? 'Starting…'} />
      </main>
    );
  }
  if (session.status === 'signed-out' || !session.user) {
    return <main id="main">{open ?? <SignIn notice={session.notice} />}</main>;
  }
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to the content
      </a>
      <Header me={session.user} path={where.path} />
      <main id="main" class="content">
        {open ?? signedInPage(where, session.user)}
      </main>
    </>
  );
}
