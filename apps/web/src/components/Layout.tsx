import { Suspense, useEffect, useRef, useState } from 'react';
import { Link, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useLogoutMutation } from '../api/api';
import { FollowingNav } from '../nav/FollowingNav';
import { NotificationBell } from '../notifications/NotificationBell';
import { SearchBox } from '../search/SearchBox';
import { useRouteFocus } from '../hooks';
import { useSession } from '../store';
import { Avatar } from './Avatar';
import { Spinner } from './ErrorState';
import { ThemeToggle } from './ThemeToggle';

/** Moves focus among a menu's items with the arrow keys, Home and End (the ARIA menu pattern). */
function onMenuKey(e: React.KeyboardEvent<HTMLElement>) {
  const items = [...e.currentTarget.querySelectorAll<HTMLElement>('[role="menuitem"]')];
  const at = items.indexOf(document.activeElement as HTMLElement);
  const to =
    e.key === 'ArrowDown'
      ? (at + 1) % items.length
      : e.key === 'ArrowUp'
        ? (at - 1 + items.length) % items.length
        : e.key === 'Home'
          ? 0
          : e.key === 'End'
            ? items.length - 1
            : -1;
  if (to < 0 || items.length === 0) return;
  e.preventDefault();
  items[to]?.focus();
}

function UserMenu() {
  const { user } = useSession();
  const [open, setOpen] = useState(false);
  const [logout] = useLogoutMutation();
  const navigate = useNavigate();
  const ref = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const location = useLocation();

  const list = useRef<HTMLDivElement>(null);
  useEffect(() => setOpen(false), [location.pathname]);
  useEffect(() => {
    if (!open) return;
    // A menu opens with focus on its first item, from where the arrow keys move.
    list.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent) {
        if (e.key !== 'Escape') return;
        setOpen(false);
        // Focus may be in the menu that is going away: back to its button, not to the page's top.
        button.current?.focus();
      } else if (!ref.current?.contains(e.target as Node)) {
        setOpen(false);
      }
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);

  if (!user) return null;
  const name = user.displayName || user.username;
  return (
    <div className="menu" ref={ref}>
      <button
        ref={button}
        type="button"
        className="menu-button"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
      >
        {/* The name it shows is the start of its name; on a phone only "Account menu" is left. */}
        <span aria-hidden="true" className="menu-avatar">
          <Avatar name={name} url={user.avatarUrl} size={32} />
        </span>
        <span className="hide-sm">{name}</span>
        <span className="sr-only">Account menu</span>
      </button>
      {open && (
        <div
          className="menu-list"
          role="menu"
          aria-label="Account"
          ref={list}
          onKeyDown={onMenuKey}
        >
          <Link role="menuitem" to={`/${user.username}`}>
            My channel
          </Link>
          <Link role="menuitem" to={`/u/${user.username}`}>
            Profile
          </Link>
          <Link role="menuitem" to="/dashboard">
            Creator dashboard
          </Link>
          <Link role="menuitem" to="/settings/security">
            Security
          </Link>
          <Link role="menuitem" to="/settings/subscriptions">
            Subscriptions
          </Link>
          <Link role="menuitem" to="/developers">
            Developer console
          </Link>
          {user.roles.includes('admin') && (
            <Link role="menuitem" to="/admin">
              Admin
            </Link>
          )}
          <button
            role="menuitem"
            type="button"
            onClick={() => {
              void logout().then(() => navigate('/'));
            }}
          >
            Log out
          </button>
        </div>
      )}
    </div>
  );
}

/** The site's sections; on a phone they fold into a Menu button. */
function SiteNav({ admin, signedIn }: { admin: boolean; signedIn: boolean }) {
  const [open, setOpen] = useState(false);
  const location = useLocation();
  const ref = useRef<HTMLElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => setOpen(false), [location.pathname]);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent) {
        if (e.key !== 'Escape') return;
        setOpen(false);
        button.current?.focus();
      } else if (!ref.current?.contains(e.target as Node)) {
        setOpen(false);
      }
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  return (
    <nav className={open ? 'nav open' : 'nav'} aria-label="Main" ref={ref}>
      <button
        ref={button}
        type="button"
        className="menu-button nav-toggle"
        aria-expanded={open}
        aria-controls="nav-links"
        onClick={() => setOpen((o) => !o)}
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path d="M3 6h18v2H3zm0 5h18v2H3zm0 5h18v2H3z" fill="currentColor" />
        </svg>
        <span className="sr-only">Menu</span>
      </button>
      <div className="nav-links" id="nav-links">
        <NavLink to="/" end>
          Browse
        </NavLink>
        <NavLink to="/directory">Categories</NavLink>
        {signedIn && <NavLink to="/dashboard">Dashboard</NavLink>}
        {admin && <NavLink to="/admin">Admin</NavLink>}
      </div>
    </nav>
  );
}

/**
 * Pages opened from a mailed link: their one-time token must not travel into
 * the login page's address, nor bring the user back to a spent link.
 */
const NO_RETURN = /^\/(forgot-password|reset-password|verify-email)(\/|$)/;

export function Layout() {
  const { user, checked } = useSession();
  const location = useLocation();
  const next = encodeURIComponent(
    NO_RETURN.test(location.pathname) ? '/' : location.pathname + location.search,
  );
  const main = useRef<HTMLElement>(null);
  useRouteFocus(main);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="logo" aria-label="Neon home">
          <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
            <rect width="32" height="32" rx="8" fill="var(--accent)" />
            <path d="M9 23V9h3l8 9.5V9h3v14h-3l-8-9.5V23z" fill="#fff" />
          </svg>
          <span className="hide-sm">neon</span>
        </Link>
        <SiteNav admin={Boolean(user?.roles.includes('admin'))} signedIn={Boolean(user)} />
        <SearchBox />
        <div className="spacer" />
        <ThemeToggle />
        {user ? (
          <>
            <NotificationBell />
            <UserMenu />
          </>
        ) : (
          checked && (
            <div className="row">
              <Link className="btn ghost" to={`/login?next=${next}`}>
                Log in
              </Link>
              <Link className="btn" to={`/signup?next=${next}`}>
                Sign up
              </Link>
            </div>
          )
        )}
      </header>
      <div className={user ? 'shell with-side' : 'shell'}>
        {user && (
          <aside className="sidenav">
            <FollowingNav />
          </aside>
        )}
        <main id="main" tabIndex={-1} ref={main}>
          <Suspense fallback={<Spinner />}>
            <Outlet />
          </Suspense>
        </main>
      </div>
    </>
  );
}
