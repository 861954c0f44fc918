import { useState } from 'preact/hooks';
import { AUDIT_ACTIONS } from '../../../../src/modules/audit/audit.actions.js';
import { withQuery } from '../../api/client.js';
import type { AuditSummary, User } from '../../api/types.js';
import { Page } from '../../components/page.js';
import { type Column, PagedTable, usePagedList } from '../../components/paged-table.js';
import { formatShortDateTime, shortId } from '../../format.js';
import { Link, navigate } from '../../router.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AuditFilters {
  page: number;
  action: string;
  userId: string;
}

function auditUrl(filters: AuditFilters): string {
  return withQuery('/audit', {
    action: filters.action,
    userId: filters.userId,
    page: filters.page > 1 ? filters.page : undefined,
  });
}

export function AuditPage({ filters, me }: { filters: AuditFilters; me: User }) {
  const [action, setAction] = useState(filters.action);
  const [userId, setUserId] = useState(filters.userId);
  const [userIdError, setUserIdError] = useState<string>();
  const list = usePagedList<AuditSummary>('/logs', { ...filters });

  const columns: Column<AuditSummary>[] = [
    {
      header: 'When',
      cell: (entry) => (
        <Link href={`/audit/${entry.id}`}>
          {formatShortDateTime(entry.createdAt)}
          <span class="visually-hidden"> — details of {entry.action}</span>
        </Link>
      ),
    },
    { header: 'Action', code: true, cell: (entry) => entry.action },
    {
      header: 'User',
      cell: (entry) =>
        entry.userId ? (
          <Link
            href={auditUrl({ page: 1, action: filters.action, userId: entry.userId })}
            title={`Only entries of user ${entry.userId}`}
          >
            {entry.userId === me.id ? 'you' : shortId(entry.userId)}
          </Link>
        ) : (
          <span class="muted">system</span>
        ),
    },
  ];

  const apply = (event: Event) => {
    event.preventDefault();
    const id = userId.trim();
    if (id && !UUID.test(id)) return setUserIdError('A user id is a UUID, like 3f2c…-…; copy it from an entry.');
    setUserIdError(undefined);
    navigate(auditUrl({ page: 1, action, userId: id }));
  };

  return (
    <Page title="Audit log">
      <form class="panel filters" onSubmit={apply} aria-label="Filter the audit log">
        <div class="field">
          <label for="filter-action">Action</label>
          <select id="filter-action" value={action} onChange={(event) => setAction(event.currentTarget.value)}>
            <option value="">Every action</option>
            {AUDIT_ACTIONS.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        {me.role === 'admin' ? (
          <div class="field">
            <label for="filter-user">User id</label>
            <input
              id="filter-user"
              value={userId}
              onInput={(event) => setUserId(event.currentTarget.value)}
              placeholder="Every user"
              aria-invalid={userIdError ? true : undefined}
              aria-describedby={userIdError ? 'filter-user-error' : undefined}
            />
            {userIdError ? (
              <p class="field-error" id="filter-user-error">
                {userIdError}
              </p>
            ) : null}
          </div>
        ) : null}
        <div class="actions">
          <button type="submit">Filter</button>
          {filters.action || filters.userId ? (
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setAction('');
                setUserId('');
                navigate('/audit');
              }}
            >
              Show everything
            </button>
          ) : null}
        </div>
      </form>
      {me.role !== 'admin' ? <p class="muted">You see your own entries; admins see everyone's.</p> : null}

      <PagedTable
        label="Audit log"
        caption="Audit entries, newest first"
        resource={list}
        columns={columns}
        empty="No entries match."
      />
    </Page>
  );
}
