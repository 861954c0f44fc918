import type { ComponentChildren } from 'preact';
import { Page } from '../../components/page.js';

/** The frame of the pages a signed-out visitor sees. */
export function AuthCard({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <div class="auth">
      <p class="brand" aria-hidden="true">
        Tokenpool
      </p>
      <section class="card">
        <Page title={title}>{children}</Page>
      </section>
    </div>
  );
}
