import { useId, useState } from 'react';
import { Link } from 'react-router';
import type { RoleHolder } from '@neon/contracts';
import { useChannelRolesQuery, useSetChannelRoleMutation } from '../api/api';
import { errorText } from '../api/errors';
import { ErrorState, Spinner } from '../components/ErrorState';
import { date } from '../format';
import { validateUsername } from '../validation';

type Kind = 'moderators' | 'vips';

const words: Record<Kind, { one: string; title: string; none: string; what: string }> = {
  moderators: {
    one: 'moderator',
    title: 'Moderators',
    none: 'No moderators yet.',
    what: 'Moderators can delete messages, time out and ban in your chat.',
  },
  vips: {
    one: 'VIP',
    title: 'VIPs',
    none: 'No VIPs yet.',
    what: 'VIPs get a badge in your chat and may write when it is limited to followers.',
  },
};

function RoleList({ kind, holders }: { kind: Kind; holders: RoleHolder[] }) {
  const id = useId();
  const w = words[kind];
  const [name, setName] = useState('');
  const [local, setLocal] = useState<string | null>(null);
  const [grant, granting] = useSetChannelRoleMutation();
  const [revoke, revoking] = useSetChannelRoleMutation();

  async function add(e: React.FormEvent) {
    e.preventDefault();
    const username = name.trim().replace(/^@/, '').toLowerCase();
    const invalid = validateUsername(username);
    if (invalid) {
      setLocal(username ? 'That is not a username.' : `Type the username of your new ${w.one}.`);
      return;
    }
    setLocal(null);
    try {
      await grant({ kind, username, grant: true }).unwrap();
      setName('');
    } catch {
      // Shown under the box.
    }
  }

  const error = local ?? (granting.error ? errorText(granting.error) : null);
  return (
    <section className="role-list" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{w.title}</h3>
      <p className="muted small">{w.what}</p>
      {holders.length === 0 ? (
        <p className="muted small">{w.none}</p>
      ) : (
        <ul aria-label={w.title}>
          {holders.map((h) => (
            <li key={h.userId} className="row between">
              <span>
                <Link to={`/u/${h.username}`}>{h.displayName || h.username}</Link>{' '}
                <span className="muted small">
                  @{h.username} · since {date(h.grantedAt)}
                </span>
              </span>
              <button
                type="button"
                className="btn ghost sm"
                disabled={revoking.isLoading}
                aria-label={`Remove ${w.one} ${h.username}`}
                onClick={() => void revoke({ kind, username: h.username, grant: false })}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {revoking.error && (
        <p className="field-error" role="alert">
          {errorText(revoking.error)}
        </p>
      )}
      <form className="row add-role" noValidate onSubmit={(e) => void add(e)}>
        <input
          className={`input${error ? ' invalid' : ''}`}
          aria-label={`Username of a new ${w.one}`}
          aria-invalid={Boolean(error)}
          aria-describedby={error ? `${id}-err` : undefined}
          placeholder="username"
          autoComplete="off"
          value={name}
          maxLength={40}
          onChange={(e) => {
            setName(e.target.value);
            setLocal(null);
            granting.reset();
          }}
        />
        <button className="btn sm" type="submit" disabled={granting.isLoading}>
          Add {w.one}
        </button>
      </form>
      {error && (
        <p className="field-error" id={`${id}-err`} role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** The creator dashboard's moderators and VIPs: add by username, remove, list. */
export function RolesPanel() {
  const { data, error, isLoading, refetch } = useChannelRolesQuery();
  return (
    <section className="panel" aria-labelledby="roles-title">
      <h2 id="roles-title">Moderators and VIPs</h2>
      {isLoading ? (
        <Spinner />
      ) : !data ? (
        <ErrorState
          title="Could not load your channel's team"
          error={error}
          onRetry={() => void refetch()}
        />
      ) : (
        <>
          <RoleList kind="moderators" holders={data.moderators} />
          <RoleList kind="vips" holders={data.vips} />
        </>
      )}
    </section>
  );
}
