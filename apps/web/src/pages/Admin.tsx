import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { AdminUser } from '@neon/contracts';
import {
  useAdminSetAdminMutation,
  useAdminSuspendMutation,
  useAdminUsersQuery,
  useAuditQuery,
} from '../api/api';
import { errorText, isApiError } from '../api/errors';
import { StepUpPrompt } from '../security/StepUp';
import { Avatar } from '../components/Avatar';
import { ErrorState, Spinner } from '../components/ErrorState';
import { dateTime } from '../format';
import { useTitle } from '../hooks';
import { useSession } from '../store';
import { AdminMailLog } from './AdminMail';

function UserRow({ u, self }: { u: AdminUser; self: boolean }) {
  const [setAdmin, a] = useAdminSetAdminMutation();
  const [suspend, s] = useAdminSuspendMutation();
  const admin = u.roles.includes('admin');
  const err = a.error ?? s.error;
  return (
    <tr>
      <td>
        <div className="row">
          <Avatar name={u.displayName || u.username} url={u.avatarUrl} size={28} />
          <div>
            <Link to={`/u/${u.username}`}>{u.displayName || u.username}</Link>
            <div className="muted small">@{u.username}</div>
          </div>
        </div>
      </td>
      <td className="hide-sm">{u.email}</td>
      <td data-label="Status">
        {admin && <span className="chip admin">Admin</span>}
        {u.suspended && <span className="chip danger">Suspended</span>}
      </td>
      <td className="actions">
        <button
          type="button"
          className="btn ghost sm"
          disabled={self || a.isLoading}
          onClick={() => void setAdmin({ id: u.id, admin: !admin })}
        >
          {admin ? 'Revoke admin' : 'Make admin'}
        </button>
        <button
          type="button"
          className={`btn sm ${u.suspended ? 'ghost' : 'danger'}`}
          disabled={self || s.isLoading}
          onClick={() => void suspend({ id: u.id, suspended: !u.suspended })}
        >
          {u.suspended ? 'Unsuspend' : 'Suspend'}
        </button>
        {isApiError(err) && err.code === 'AUTH_STEP_UP_REQUIRED' ? (
          <StepUpPrompt
            onDone={() => {
              a.reset();
              s.reset();
            }}
          />
        ) : (
          err && <div className="field-error">{errorText(err)}</div>
        )}
      </td>
    </tr>
  );
}

function Users() {
  const { user } = useSession();
  const [input, setInput] = useState('');
  const [q, setQ] = useState('');
  const [cursor, setCursor] = useState<string | undefined>();
  useEffect(() => {
    const t = setTimeout(() => {
      setQ(input.trim());
      setCursor(undefined);
    }, 250);
    return () => clearTimeout(t);
  }, [input]);
  const { data, error, isFetching, refetch } = useAdminUsersQuery({
    ...(q ? { q } : {}),
    ...(cursor ? { cursor } : {}),
  });
  return (
    <section className="panel wide">
      <input
        className="input"
        type="search"
        placeholder="Search by username or email"
        aria-label="Search users"
        value={input}
        onChange={(e) => setInput(e.target.value)}
      />
      {error ? (
        <ErrorState title="Could not load users" error={error} onRetry={() => void refetch()} />
      ) : !data ? (
        <Spinner />
      ) : data.items.length === 0 ? (
        <p className="muted">No users match.</p>
      ) : (
        <div
          className="table-wrap"
          aria-busy={isFetching}
          role="region"
          aria-label="Users"
          // Scrolls sideways on a narrow screen: reachable by keyboard too.
          tabIndex={0}
        >
          <table className="cards-sm">
            <thead>
              <tr>
                <th>User</th>
                <th className="hide-sm">Email</th>
                <th>Status</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((u) => (
                <UserRow key={u.id} u={u} self={u.id === user?.id} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="row">
        {cursor && (
          <button type="button" className="btn ghost" onClick={() => setCursor(undefined)}>
            First page
          </button>
        )}
        {data?.nextCursor && (
          <button
            type="button"
            className="btn ghost"
            onClick={() => setCursor(data.nextCursor ?? undefined)}
          >
            Next page
          </button>
        )}
      </div>
    </section>
  );
}

function Audit() {
  const [cursor, setCursor] = useState<string | undefined>();
  const { data, error, refetch } = useAuditQuery(cursor ? { cursor } : {});
  if (error)
    return (
      <ErrorState
        title="Could not load the audit log"
        error={error}
        onRetry={() => void refetch()}
      />
    );
  if (!data) return <Spinner />;
  return (
    <section className="panel wide">
      {data.items.length === 0 ? (
        <p className="muted">No admin actions yet.</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="Audit log" tabIndex={0}>
          <table className="cards-sm">
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>Action</th>
                <th>Target</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((e) => (
                <tr key={e.id}>
                  <td className="nowrap" data-label="When">
                    {dateTime(e.at)}
                  </td>
                  <td data-label="Who">@{e.actorUsername}</td>
                  <td data-label="Action">
                    <code>{e.action}</code>
                  </td>
                  <td data-label="Target">{e.targetUsername ? `@${e.targetUsername}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data.nextCursor && (
        <button
          type="button"
          className="btn ghost"
          onClick={() => setCursor(data.nextCursor ?? undefined)}
        >
          Older entries
        </button>
      )}
    </section>
  );
}

export default function Admin() {
  useTitle('Admin');
  const [params, setParams] = useSearchParams();
  const asked = params.get('tab');
  const tab = asked === 'audit' || asked === 'mail' ? asked : 'users';
  return (
    <div className="page">
      <div className="page-head">
        <h1>Admin</h1>
      </div>
      <div className="tabs" role="tablist">
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'users'}
          onClick={() => setParams({})}
        >
          Users
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'audit'}
          onClick={() => setParams({ tab: 'audit' })}
        >
          Audit log
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'mail'}
          onClick={() => setParams({ tab: 'mail' })}
        >
          Mail
        </button>
      </div>
      {tab === 'users' ? <Users /> : tab === 'audit' ? <Audit /> : <AdminMailLog />}
    </div>
  );
}
