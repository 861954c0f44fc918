import { useState } from 'preact/hooks';
import { roleAllowsScope, SCOPES, type Scope } from '../../../../src/infra/http/scopes.js';
import { api } from '../../api/client.js';
import type { CreatedApiKey, ServiceAccount, User } from '../../api/types.js';
import { ErrorMessage } from '../../components/feedback.js';
import { Field } from '../../components/field.js';
import { useSubmit } from '../account/use-form.js';

const DEFAULT_DAYS = '90';

/** The pools typed as `a, b`: none typed means every pool, so the field is left out. */
function poolList(text: string): string[] | undefined {
  const pools = text
    .split(',')
    .map((pool) => pool.trim())
    .filter(Boolean);
  return pools.length > 0 ? pools : undefined;
}

interface KeyFormProps {
  me: User;
  /** Admins only: the service accounts a key may be made for, besides the admin. */
  owners?: ServiceAccount[] | undefined;
  onCreated(made: CreatedApiKey): void;
}

/**
 * Makes a key. The scopes offered are those the owner's role may hold, by the very rule the
 * service applies (`roleAllowsScope`), so the form never offers what the API would refuse.
 */
export function KeyForm({ me, owners, onCreated }: KeyFormProps) {
  const [name, setName] = useState('');
  const [ownerId, setOwnerId] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['tokens:lease']);
  const [pools, setPools] = useState('');
  const [days, setDays] = useState(DEFAULT_DAYS);

  const owner = owners?.find((account) => account.id === ownerId);
  const role = owner?.role ?? me.role;
  const offered = SCOPES.filter((scope) => roleAllowsScope(role, scope));
  const chosen = scopes.filter((scope) => offered.includes(scope));

  const toggle = (scope: Scope, on: boolean) =>
    setScopes((current) => SCOPES.filter((s) => (s === scope ? on : current.includes(s))));

  const { busy, error, submit, fieldError } = useSubmit(async () => {
    const body = {
      name,
      scopes: chosen,
      expiresInDays: Number(days),
      ...(poolList(pools) ? { pools: poolList(pools) } : {}),
      ...(ownerId ? { ownerId } : {}),
    };
    onCreated(await api<CreatedApiKey>('POST', '/api-keys', { body }));
    setName('');
  });

  return (
    <form class="panel key-form" onSubmit={submit} aria-labelledby="key-form-title">
      <h2 id="key-form-title">Make a key</h2>
      <Field
        name="name"
        label="Name"
        required
        maxLength={100}
        value={name}
        onValue={setName}
        error={fieldError('name')}
        hint="What uses it, to recognise it later: ci-runners, nightly-report."
      />
      {owners ? (
        <div class="field">
          <label for="key-owner">Owner</label>
          <select id="key-owner" value={ownerId} onChange={(event) => setOwnerId(event.currentTarget.value)}>
            <option value="">You ({me.email})</option>
            {owners.map((account) => (
              <option key={account.id} value={account.id}>
                {account.name} (service account, {account.role})
              </option>
            ))}
          </select>
          <p class="hint">The key acts as its owner. A service account’s keys keep working whoever leaves.</p>
        </div>
      ) : null}
      <fieldset class="checks">
        <legend>Scopes</legend>
        {offered.map((scope) => (
          <label key={scope} class="check">
            <input
              type="checkbox"
              name="scopes"
              value={scope}
              checked={chosen.includes(scope)}
              onChange={(input) => toggle(scope, input.currentTarget.checked)}
            />
            {scope}
          </label>
        ))}
      </fieldset>
      <Field
        name="pools"
        label="Pools (optional)"
        value={pools}
        onValue={setPools}
        hint="Names separated by commas; every pool when empty."
      />
      <Field
        name="expiresInDays"
        label="Expires in (days)"
        type="number"
        required
        min={1}
        max={365}
        value={days}
        onValue={setDays}
        error={fieldError('expiresInDays')}
        hint="1 to 365."
      />
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy || chosen.length === 0}>
        {busy ? 'Making the key…' : 'Make the key'}
      </button>
    </form>
  );
}
