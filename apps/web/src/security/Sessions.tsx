import { useId, useRef, useState } from 'react';
import type { SessionInfo } from '@neon/contracts';
import { errorText, isApiError } from '../api/errors';
import {
  useRevokeOtherSessionsMutation,
  useRevokeSessionMutation,
  useSessionsQuery,
} from '../api/sessions-api';
import { Confirm } from '../components/Confirm';
import { ErrorState, Spinner } from '../components/ErrorState';
import { date } from '../format';
import { useDialogFocus, useNow } from '../hooks';
import { StepUpPrompt } from './StepUp';

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['minute', 60],
  ['hour', 60 * 60],
  ['day', 24 * 60 * 60],
];

/** "just now", "5 minutes ago", "yesterday"; past a week, the date. */
export function ago(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds >= 7 * 24 * 60 * 60) return `on ${date(iso)}`;
  let unit = STEPS[0]!;
  for (const step of STEPS) if (seconds >= step[1]) unit = step;
  return relative.format(-Math.floor(seconds / unit[1]), unit[0]);
}

/** What is waiting for a second-factor check, to be done once it passes. */
type Pending = { kind: 'one'; session: SessionInfo } | { kind: 'others' };

function SessionItem({
  session,
  now,
  busy,
  onSignOut,
}: {
  session: SessionInfo;
  now: number;
  busy: boolean;
  onSignOut: (s: SessionInfo) => void;
}) {
  const id = useId();
  const [asking, setAsking] = useState(false);
  const { dialog, opener } = useDialogFocus<HTMLDivElement, HTMLButtonElement>(asking, () =>
    setAsking(false),
  );
  return (
    <li aria-labelledby={`${id}-device`} data-testid="session">
      <div className="row between wrap">
        <h3 id={`${id}-device`}>
          {session.device}
          {session.current && <span className="badge static">This device</span>}
        </h3>
        <span className="hint">
          Signed in {ago(session.createdAt, now)} ·{' '}
          {session.current ? 'Active now' : `Last active ${ago(session.lastUsedAt, now)}`}
        </span>
      </div>
      {session.current ? null : asking ? (
        <Confirm
          dialog={dialog}
          question={`Sign out ${session.device}? It has to sign in again with the password to come back.`}
          yes="Sign out"
          no="Keep"
          busy={busy}
          onYes={() => {
            setAsking(false);
            onSignOut(session);
          }}
          onNo={() => setAsking(false)}
        />
      ) : (
        <button
          ref={opener}
          type="button"
          className="btn ghost sm"
          aria-label={`Sign out ${session.device}…`}
          onClick={() => setAsking(true)}
        >
          Sign out…
        </button>
      )}
    </li>
  );
}

/** Settings → Security: where the account is signed in; any other device can be signed out. */
export function Sessions() {
  const { data, error, isLoading, refetch } = useSessionsQuery();
  const [revokeOne, oneState] = useRevokeSessionMutation();
  const [revokeOthers, othersState] = useRevokeOtherSessionsMutation();
  const [status, setStatus] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const [stepUpFor, setStepUpFor] = useState<Pending | null>(null);
  const [askingAll, setAskingAll] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const now = useNow(60_000);
  const { dialog, opener } = useDialogFocus<HTMLDivElement, HTMLButtonElement>(askingAll, () =>
    setAskingAll(false),
  );

  function run(pending: Pending) {
    setFailure(null);
    setStatus('');
    const done =
      pending.kind === 'one'
        ? revokeOne(pending.session.id)
            .unwrap()
            .then(() => `Signed out ${pending.session.device}.`)
        : revokeOthers()
            .unwrap()
            .then(() => 'Signed out of all other sessions.');
    void done.then(
      (text) => {
        setStatus(text);
        // The button that was focused is gone with its session.
        setTimeout(() => heading.current?.focus(), 0);
      },
      (err: unknown) => {
        if (isApiError(err) && err.code === 'AUTH_STEP_UP_REQUIRED') setStepUpFor(pending);
        else if (isApiError(err) && err.code === 'AUTH_SESSION_NOT_FOUND') {
          // Ended already (elsewhere, or it ran out): the list catches up.
          void refetch();
        } else setFailure(`Nothing was signed out: ${errorText(err)}`);
      },
    );
  }

  const others = data?.items.filter((s) => !s.current) ?? [];
  return (
    <section className="panel" id="sessions" aria-labelledby="sessions-title">
      <h2 id="sessions-title" tabIndex={-1} ref={heading}>
        Sessions
      </h2>
      <p className="muted">
        Where your account is signed in. Signing a device out ends its access at once.
      </p>
      <p className="hint" role="status">
        {status}
      </p>
      {failure && (
        <div className="alert" role="alert">
          {failure}
        </div>
      )}
      {stepUpFor && (
        <StepUpPrompt
          onDone={() => {
            const pending = stepUpFor;
            setStepUpFor(null);
            run(pending);
          }}
        />
      )}
      {isLoading ? (
        <Spinner />
      ) : error || !data ? (
        <ErrorState
          title="Could not load your sessions"
          error={error}
          onRetry={() => void refetch()}
        />
      ) : (
        <>
          <ul className="app-list" aria-label="Your sessions">
            {data.items.map((s) => (
              <SessionItem
                key={s.id}
                session={s}
                now={now}
                busy={oneState.isLoading}
                onSignOut={(session) => run({ kind: 'one', session })}
              />
            ))}
          </ul>
          {others.length === 0 ? (
            <p className="muted">You are not signed in anywhere else.</p>
          ) : askingAll ? (
            <Confirm
              dialog={dialog}
              question={`Sign out of ${
                others.length === 1 ? 'the other session' : `all ${others.length} other sessions`
              }? Only this device stays signed in.`}
              yes="Sign out the others"
              no="Keep them"
              busy={othersState.isLoading}
              onYes={() => {
                setAskingAll(false);
                run({ kind: 'others' });
              }}
              onNo={() => setAskingAll(false)}
            />
          ) : (
            <button
              ref={opener}
              type="button"
              className="btn ghost"
              onClick={() => setAskingAll(true)}
            >
              Sign out of all other sessions…
            </button>
          )}
        </>
      )}
    </section>
  );
}
