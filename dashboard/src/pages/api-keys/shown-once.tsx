import { useEffect, useRef, useState } from 'preact/hooks';
import type { CreatedApiKey } from '../../api/types.js';
import { Notice } from '../../components/feedback.js';

/**
 * A key just made or rotated: the API answers its secret this once and keeps only a hash, so it is
 * shown here with a copy button until the page is left. The field takes the focus, so a keyboard or
 * screen reader user lands on the key wherever the action that made it was.
 */
export function ShownOnce({ made, what }: { made: CreatedApiKey; what: string }) {
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'failed'>();
  useEffect(() => {
    setCopied(undefined);
    field.current?.focus();
    field.current?.select();
  }, [made.key]);

  const copy = async () => {
    try {
      // Undefined outside a secure context (plain http on a remote host): then the person copies by hand.
      await navigator.clipboard.writeText(made.key);
      setCopied('yes');
    } catch {
      field.current?.select();
      setCopied('failed');
    }
  };

  return (
    <Notice tone="success">
      <p>
        {what} <strong>Copy it now: it will not be shown again.</strong> Send it as{' '}
        <code class="mono">Authorization: Bearer …</code>
      </p>
      <div class="field">
        <label for="api-key-secret">New API key “{made.name}”</label>
        <input id="api-key-secret" ref={field} class="mono secret" readOnly value={made.key} />
      </div>
      <div class="actions">
        <button type="button" class="secondary" onClick={() => void copy()}>
          Copy the key
        </button>
        <span aria-live="polite">
          {copied === 'yes'
            ? 'Copied.'
            : copied === 'failed'
              ? 'Could not copy: the key is selected, copy it yourself.'
              : ''}
        </span>
      </div>
    </Notice>
  );
}
