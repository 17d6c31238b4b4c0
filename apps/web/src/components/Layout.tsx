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

function UserMenu() {
  const { user } = useSession();
  const [open, setOpen] = useState(false);
  const [logout] = useLogoutMutation();
  const navigate = useNavigate();
  const ref = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const location = useLocation();

  useEffect(() => setOpen(false), [location.pathname]);
  useEffect(() => {
    if (!open) return;
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
        // On a phone the name is hidden and the avatar is decorative: the button still needs a name.
        aria-label={`${name}, account menu`}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
      >
        <Avatar name={name} url={user.avatarUrl} size={32} />
        <span className="hide-sm">{name}</span>
      </button>
      {open && (
        <div className="menu-list" role="menu">
          <Link role="menuitem" to={`/${user.username}`}>
            My channel
          </Link>
          <Link role="menuitem" to={`/u/${user.username}`}>
            Profile
          </Link>
          <Link role="menuitem" to="/dashboard">
            Creator dashboard
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

export function Layout() {
  const { user, checked } = useSession();
  const location = useLocation();
  const next = encodeURIComponent(location.pathname + location.search);
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
          <span>neon</span>
        </Link>
        <nav className="nav">
          <NavLink to="/" end>
            Browse
          </NavLink>
          <NavLink to="/directory">Categories</NavLink>
          {user && <NavLink to="/dashboard">Dashboard</NavLink>}
          {user?.roles.includes('admin') && <NavLink to="/admin">Admin</NavLink>}
        </nav>
        <SearchBox />
        <div className="spacer" />
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
