import { useEffect, useRef, useState } from 'react';
import { Link, useLocation } from 'react-router';
import type { Channel } from '@neon/contracts';
import { useSetFollowMutation } from '../api/api';
import { errorText } from '../api/errors';
import { useSession } from '../store';

const count = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

export function followers(n: number): string {
  return `${count.format(n)} ${n === 1 ? 'follower' : 'followers'}`;
}

/**
 * Follow / unfollow with the follower count. The change shows at once and is
 * undone if the server refuses it; a signed-out visitor is asked to log in.
 */
export function FollowButton({ channel }: { channel: Channel }) {
  const { user } = useSession();
  const [setFollow, { error, isLoading, reset }] = useSetFollowMutation();
  const [prompt, setPrompt] = useState(false);
  const location = useLocation();
  const ref = useRef<HTMLDivElement>(null);
  const next = encodeURIComponent(location.pathname + location.search);
  const own = user?.username === channel.username;

  useEffect(() => {
    if (!prompt) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (
        e instanceof KeyboardEvent ? e.key === 'Escape' : !ref.current?.contains(e.target as Node)
      )
        setPrompt(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [prompt]);

  const label = channel.following ? 'Unfollow' : 'Follow';
  return (
    <div className="follow" ref={ref}>
      <span className="muted small" data-testid="follower-count">
        {followers(channel.followers)}
      </span>
      {!own && (
        <button
          type="button"
          className={`btn sm${channel.following ? ' ghost' : ''}`}
          aria-pressed={channel.following}
          aria-label={`${label} ${channel.displayName || channel.username}`}
          disabled={isLoading}
          onClick={() => {
            if (!user) {
              setPrompt((p) => !p);
              return;
            }
            reset();
            void setFollow({ username: channel.username, follow: !channel.following });
          }}
        >
          {channel.following ? '♥ Following' : '♡ Follow'}
        </button>
      )}
      {prompt && !user && (
        <div className="popover" role="dialog" aria-label="Log in to follow">
          <p>
            Log in to follow {channel.displayName || channel.username} and see when they go live.
          </p>
          <div className="row">
            <Link className="btn sm" to={`/login?next=${next}`}>
              Log in
            </Link>
            <Link className="btn ghost sm" to={`/signup?next=${next}`}>
              Sign up
            </Link>
          </div>
        </div>
      )}
      {error && (
        <p className="field-error" role="alert">
          {errorText(error)}
        </p>
      )}
    </div>
  );
}
