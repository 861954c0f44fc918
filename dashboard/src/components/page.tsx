import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

interface PageProps {
  title: string;
  /** Buttons or links beside the heading. */
  actions?: ComponentChildren;
  children: ComponentChildren;
}

// The first page of a visit leaves the focus at the top of the document, where the skip link is.
let firstPage = true;

/**
 * A page: its title in the tab and in the heading, which takes the focus when a later page opens
 * so a screen reader announces where the user landed.
 */
export function Page({ title, actions, children }: PageProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Tokenpool`;
    if (firstPage) firstPage = false;
    else heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <>
      <div class="page-head">
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {actions ? <div class="actions">{actions}</div> : null}
      </div>
      {children}
    </>
  );
}
