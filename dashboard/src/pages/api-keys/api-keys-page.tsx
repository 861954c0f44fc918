import { useState } from 'preact/hooks';
import { api, withQuery } from '../../api/client.js';
import type { ApiKey, CreatedApiKey, Page as ListPage, ServiceAccount, User } from '../../api/types.js';
import { Confirm } from '../../components/confirm.js';
import { ErrorMessage } from '../../components/feedback.js';
import { Page } from '../../components/page.js';
import { type Column, PagedTable, usePagedList } from '../../components/paged-table.js';
import { formatShortDateTime, plural, shortId } from '../../format.js';
import { useAction, useResource } from '../../hooks.js';
import { KeyForm } from './key-form.js';
import { ServiceAccountForm } from './service-account-form.js';
import { ShownOnce } from './shown-once.js';

const DEFAULT_OVERLAP = '86400';
/** The most `GET /users` answers at once; service accounts are found among the newest accounts. */
const ACCOUNTS_PAGE = 100;

type Pending = { action: 'rotate' | 'revoke'; key: ApiKey };

/**
 * The accounts an admin may make keys for, besides themself: the service accounts among the newest
 * `ACCOUNTS_PAGE` accounts (the API lists users newest first and has no filter by kind).
 */
function useServiceAccounts(admin: boolean, version: number) {
  const url = withQuery('/users', { pageSize: ACCOUNTS_PAGE });
  const users = useResource(
    () => (admin ? api<ListPage<User>>('GET', url) : Promise.resolve(undefined)),
    admin ? `${url}#${version}` : 'not an admin',
  );
  const accounts = users.data?.data
    .filter((user) => user.kind === 'service')
    .map(({ id, name, role, createdAt }): ServiceAccount => ({ id, name, role, kind: 'service', createdAt }));
  const names = new Map(users.data?.data.map((user) => [user.id, user.name]));
  return { accounts: admin ? (accounts ?? []) : undefined, names, error: users.error };
}

/** Every signed-in user's keys; an admin sees everyone's and makes service accounts and their keys. */
export function ApiKeysPage({ me, page }: { me: User; page: number }) {
  const admin = me.role === 'admin';
  // Bumped after a change, so the list (or the accounts) is loaded again.
  const [version, setVersion] = useState(0);
  const [accountsVersion, setAccountsVersion] = useState(0);
  const [shown, setShown] = useState<{ made: CreatedApiKey; what: string }>();
  const [pending, setPending] = useState<Pending>();
  const [overlap, setOverlap] = useState(DEFAULT_OVERLAP);
  const action = useAction();
  const list = usePagedList<ApiKey>('/api-keys', { page }, version);
  const owners = useServiceAccounts(admin, accountsVersion);
  const reload = () => setVersion((value) => value + 1);

  const ownerName = (id: string) => (id === me.id ? 'you' : (owners.names.get(id) ?? shortId(id)));

  const act = ({ action: kind, key }: Pending) =>
    void action.run(async () => {
      if (kind === 'revoke') {
        await api('DELETE', `/api-keys/${key.id}`);
        if (shown?.made.id === key.id) setShown(undefined);
      } else {
        const seconds = Number(overlap);
        const made = await api<CreatedApiKey>('POST', `/api-keys/${key.id}/rotate`, {
          body: { overlapSeconds: seconds },
        });
        const until = seconds > 0 ? `for ${plural(seconds, 'more second')}` : 'no longer';
        setShown({ made, what: `Rotated “${key.name}”: the old key (${key.prefix}…) works ${until}.` });
      }
      reload();
    });

  const columns: Column<ApiKey>[] = [
    { header: 'Name', cell: (key) => key.name },
    { header: 'Prefix', code: true, cell: (key) => `${key.prefix}…` },
    { header: 'Scopes', cell: (key) => key.scopes.join(', ') },
    { header: 'Pools', cell: (key) => key.pools?.join(', ') ?? 'all' },
    ...(admin ? [{ header: 'Owner', cell: (key: ApiKey) => ownerName(key.ownerId) }] : []),
    { header: 'Expires', cell: (key) => formatShortDateTime(key.expiresAt) },
    { header: 'Last used', cell: (key) => (key.lastUsedAt ? formatShortDateTime(key.lastUsedAt) : 'never') },
    {
      header: <span class="visually-hidden">Actions</span>,
      cell: (key) => (
        <div class="row-actions">
          <button
            type="button"
            class="secondary"
            disabled={action.busy}
            onClick={() => {
              setOverlap(DEFAULT_OVERLAP);
              setPending({ action: 'rotate', key });
            }}
          >
            Rotate<span class="visually-hidden"> {key.name}</span>
          </button>
          <button
            type="button"
            class="danger"
            disabled={action.busy}
            onClick={() => setPending({ action: 'revoke', key })}
          >
            Revoke<span class="visually-hidden"> {key.name}</span>
          </button>
        </div>
      ),
    },
  ];

  const made = (key: CreatedApiKey) => {
    const owner = key.ownerId === me.id ? '' : ` for ${ownerName(key.ownerId)}`;
    setShown({ made: key, what: `Made the key “${key.name}”${owner}.` });
    reload();
  };

  return (
    <Page title="API keys">
      <p class="muted">
        Programs send a key as <code class="mono">Authorization: Bearer tp_sk_…</code>; it acts as its owner, limited to
        its scopes and pools.
      </p>
      {shown ? <ShownOnce made={shown.made} what={shown.what} /> : null}
      {admin ? (
        <>
          <ServiceAccountForm onCreated={() => setAccountsVersion((value) => value + 1)} />
          <ErrorMessage error={owners.error} />
        </>
      ) : null}
      <KeyForm me={me} owners={owners.accounts} onCreated={made} />
      <h2>{admin ? 'Every account’s keys' : 'Your keys'}</h2>
      <ErrorMessage error={action.error} />
      <PagedTable
        label="API keys"
        caption="API keys not revoked, newest first"
        resource={list}
        columns={columns}
        empty="No key yet. Make one above for a program to call Tokenpool."
      />
      <Confirm
        open={pending !== undefined}
        title={pending?.action === 'rotate' ? 'Rotate this key?' : 'Revoke this key?'}
        confirmLabel={pending?.action === 'rotate' ? 'Rotate' : 'Revoke'}
        onConfirm={() => pending && act(pending)}
        onCancel={() => setPending(undefined)}
      >
        {pending?.action === 'rotate' ? (
          <>
            <p>
              A new key replaces <code class="mono">{pending.key.prefix}…</code> with the same name, scopes and pools.
              The old one keeps working for the overlap, time to deploy the new one.
            </p>
            <div class="field">
              <label for="rotate-overlap">Overlap (seconds)</label>
              <input
                id="rotate-overlap"
                type="number"
                min={0}
                max={604800}
                value={overlap}
                onInput={(event) => setOverlap(event.currentTarget.value)}
              />
              <p class="hint">0 to 604,800; 86,400 is a day. 0 ends the old key now.</p>
            </div>
          </>
        ) : (
          <p>
            <code class="mono">{pending?.key.prefix}…</code> ({pending?.key.name}) stops working at once, everywhere.
            This cannot be undone.
          </p>
        )}
      </Confirm>
    </Page>
  );
}
