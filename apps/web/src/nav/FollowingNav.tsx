import { useState } from 'react';
import { NavLink } from 'react-router';
import { useMyFollowsQuery } from '../api/api';
import { Avatar } from '../components/Avatar';
import { useLivePresence, usePresencePushed } from '../notifications/presence';
import { useSession } from '../store';

/** Shown before "Show more"; live channels come first, so these are the ones to see. */
const FIRST = 8;
const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

/**
 * The side navigation's "Following": the channels the signed-in user follows,
 * live ones first with their viewers, kept current by push (polled while the push is away).
 */
export function FollowingNav() {
  const { user } = useSession();
  const pushed = usePresencePushed();
  const { data, isError } = useMyFollowsQuery(
    { limit: 100 },
    { skip: !user, pollingInterval: pushed ? 0 : 60_000, refetchOnFocus: true },
  );
  useLivePresence((data?.items ?? []).map((c) => c.username));
  const [all, setAll] = useState(false);
  if (!user) return null;
  const items = data?.items ?? [];
  const shown = all ? items : items.slice(0, FIRST);
  return (
    <nav className="following" aria-labelledby="following-title">
      <h2 id="following-title">Following</h2>
      {isError && !data ? (
        <p className="muted small">Could not load the channels you follow.</p>
      ) : data && items.length === 0 ? (
        <p className="muted small">Follow channels to see here when they are live.</p>
      ) : (
        <ul>
          {shown.map((c) => (
            <li key={c.username}>
              <NavLink
                to={`/${c.username}`}
                className={c.live ? 'live' : 'offline'}
                title={c.live && c.title ? c.title : undefined}
                data-channel={c.username}
              >
                <Avatar name={c.displayName || c.username} url={c.avatarUrl} size={28} />
                <span className="following-text">
                  <span className="following-name">{c.displayName || c.username}</span>
                  <span className="muted small following-sub">
                    {c.live ? (c.category?.name ?? c.title) || 'Live' : 'Offline'}
                  </span>
                </span>
                {c.live && (
                  <span className="following-viewers" aria-label={`live, ${c.viewers} viewers`}>
                    {compact.format(c.viewers)}
                  </span>
                )}
              </NavLink>
            </li>
          ))}
        </ul>
      )}
      {items.length > FIRST && (
        <button type="button" className="link-button small" onClick={() => setAll((a) => !a)}>
          {all ? 'Show less' : `Show ${items.length - FIRST} more`}
        </button>
      )}
    </nav>
  );
}
