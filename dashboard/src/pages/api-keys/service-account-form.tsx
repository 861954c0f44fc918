import { useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import type { ServiceAccount } from '../../api/types.js';
import { ErrorMessage, Notice } from '../../components/feedback.js';
import { Field } from '../../components/field.js';
import { useSubmit } from '../account/use-form.js';

/** Admins only: an account for a program, which nobody signs in as and which holds keys. */
export function ServiceAccountForm({ onCreated }: { onCreated(account: ServiceAccount): void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<ServiceAccount['role']>('user');
  const [made, setMade] = useState<ServiceAccount>();

  const { busy, error, submit, fieldError } = useSubmit(async () => {
    const account = await api<ServiceAccount>('POST', '/service-accounts', { body: { name, role } });
    setMade(account);
    setName('');
    onCreated(account);
  });

  return (
    <form class="panel" onSubmit={submit} aria-labelledby="service-account-title">
      <h2 id="service-account-title">Make a service account</h2>
      {made ? (
        <Notice tone="success">
          <p>Made the service account {made.name}: choose it as the owner of a key below.</p>
        </Notice>
      ) : null}
      <Field
        name="service-name"
        label="Service account name"
        required
        maxLength={255}
        value={name}
        onValue={setName}
        error={fieldError('name')}
      />
      <div class="field">
        <label for="service-role">Role</label>
        <select
          id="service-role"
          value={role}
          onChange={(event) => setRole(event.currentTarget.value as ServiceAccount['role'])}
        >
          <option value="user">user</option>
          <option value="admin">admin</option>
        </select>
        <p class="hint">Its keys never hold more than this role allows.</p>
      </div>
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Making the account…' : 'Make the service account'}
      </button>
    </form>
  );
}
