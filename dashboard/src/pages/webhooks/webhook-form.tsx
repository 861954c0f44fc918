import { useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import type { CreatedWebhook, WebhookEvent } from '../../api/types.js';
import { ErrorMessage, Notice } from '../../components/feedback.js';
import { Field } from '../../components/field.js';
import { useSubmit } from '../account/use-form.js';

// A record, so the compiler says when the API gains an event this form does not offer.
const EVENT_NAMES: Record<WebhookEvent, true> = {
  'token.leased': true,
  'token.released': true,
  'token.expired': true,
  'token.evicted': true,
  'tokens.cleared': true,
};
const WEBHOOK_EVENTS = Object.keys(EVENT_NAMES) as WebhookEvent[];

/** Registers an endpoint; its secret is shown here, once, since the API never answers it again. */
export function WebhookForm({ onCreated }: { onCreated(): void }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<WebhookEvent[]>(WEBHOOK_EVENTS);
  const [created, setCreated] = useState<CreatedWebhook>();

  const toggle = (event: WebhookEvent, on: boolean) =>
    setEvents((current) => WEBHOOK_EVENTS.filter((e) => (e === event ? on : current.includes(e))));

  const { busy, error, submit, fieldError } = useSubmit(async () => {
    const body = { url, events, ...(description.trim() ? { description } : {}) };
    setCreated(await api<CreatedWebhook>('POST', '/webhooks', { body }));
    setUrl('');
    setDescription('');
    onCreated();
  });

  return (
    <form class="panel webhook-form" onSubmit={submit}>
      {created ? (
        <Notice tone="success">
          <p>
            Registered {created.url}. Its signing secret is shown this once: keep it where the receiver can read it.
          </p>
          <div class="field">
            <label for="webhook-secret">Signing secret</label>
            <input id="webhook-secret" class="mono secret" readOnly value={created.secret} />
          </div>
        </Notice>
      ) : null}
      <Field
        name="url"
        label="Endpoint URL"
        type="text"
        required
        maxLength={2048}
        value={url}
        onValue={setUrl}
        error={fieldError('url')}
        hint="http or https; a public address unless the service allows private ones."
      />
      <Field
        name="description"
        label="Description (optional)"
        maxLength={200}
        value={description}
        onValue={setDescription}
        error={fieldError('description')}
      />
      <fieldset class="events">
        <legend>Events</legend>
        {WEBHOOK_EVENTS.map((name) => (
          <label key={name} class="check">
            <input
              type="checkbox"
              name="events"
              value={name}
              checked={events.includes(name)}
              onChange={(input) => toggle(name, input.currentTarget.checked)}
            />
            {name}
          </label>
        ))}
      </fieldset>
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy || events.length === 0}>
        {busy ? 'Registering…' : 'Register the endpoint'}
      </button>
    </form>
  );
}
