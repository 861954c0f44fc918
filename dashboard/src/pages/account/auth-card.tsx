import type { ComponentChildren } from 'preact';
import { Page } from '../../components/page.js';

interface AuthCardProps {
  title: string;
  children: ComponentChildren;
  /** The way on, under the card's content: a link to another account page. */
  aside: ComponentChildren;
}

/** The frame of the pages a signed-out visitor sees. */
export function AuthCard({ title, children, aside }: AuthCardProps) {
  return (
    <div class="auth">
      <p class="brand" aria-hidden="true">
        Tokenpool
      </p>
      <section class="card">
        <Page title={title}>
          {children}
          <p class="aside">{aside}</p>
        </Page>
      </section>
    </div>
  );
}
