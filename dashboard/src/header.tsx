import { useState } from 'preact/hooks';
import { session } from './api/session.js';
import type { User } from './api/types.js';
import { Link } from './router.js';

const SECTIONS = [
  { href: '/', label: 'Pool', admin: false, owns: (path: string) => path === '/' || path.startsWith('/tokens/') },
  { href: '/imports', label: 'Imports', admin: true, owns: (path: string) => path.startsWith('/imports') },
  { href: '/users', label: 'Users', admin: true, owns: (path: string) => path === '/users' },
  { href: '/audit', label: 'Audit log', admin: false, owns: (path: string) => path.startsWith('/audit') },
  { href: '/webhooks', label: 'Webhooks', admin: true, owns: (path: string) => path.startsWith('/webhooks') },
  { href: '/api-keys', label: 'API keys', admin: false, owns: (path: string) => path === '/api-keys' },
];

export function Header({ me, path }: { me: User; path: string }) {
  const [leaving, setLeaving] = useState(false);
  return (
    <header class="top">
      <Link href="/" class="brand">
        Tokenpool
      </Link>
      <nav aria-label="Sections">
        <ul class="nav-list">
          {SECTIONS.filter((section) => !section.admin || me.role === 'admin').map((section) => (
            <li key={section.href}>
              <Link href={section.href} aria-current={section.owns(path) ? 'page' : undefined}>
                {section.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div class="who">
        <span>
          {me.email}
          {me.role === 'admin' ? <span class="badge role">admin</span> : null}
        </span>
        <button
          type="button"
          class="secondary"
          disabled={leaving}
          onClick={() => {
            setLeaving(true);
            void session.signOut();
          }}
        >
          {leaving ? 'Signing out…' : 'Sign out'}
        </button>
      </div>
    </header>
  );
}
