import { useId, useRef, useState } from 'react';
import type { ConnectedApp } from '@neon/contracts';
import { errorText, isApiError } from '../api/errors';
import { useConnectedAppsQuery, useDisconnectAppMutation } from '../api/oauth-api';
import { Confirm } from '../components/Confirm';
import { ErrorState, Spinner } from '../components/ErrorState';
import { date } from '../format';
import { useDialogFocus } from '../hooks';
import { scopeWords } from '../oauth/authorize-request';

function Connection({
  app,
  onDisconnected,
  onFailed,
}: {
  app: ConnectedApp;
  onDisconnected: (name: string) => void;
  /** The app leaves the list at once, so a refusal is told by the list (it comes back). */
  onFailed: (name: string, error: unknown) => void;
}) {
  const id = useId();
  const [asking, setAsking] = useState(false);
  const [disconnect, state] = useDisconnectAppMutation();
  const { dialog, opener } = useDialogFocus<HTMLDivElement, HTMLButtonElement>(asking, () =>
    setAsking(false),
  );
  return (
    <li aria-labelledby={`${id}-name`}>
      <div className="row between wrap">
        <h3 id={`${id}-name`}>{app.appName}</h3>
        <span className="hint">Connected on {date(app.authorizedAt)}</span>
      </div>
      {app.scopes.length > 0 ? (
        <>
          <p className="can" id={`${id}-can`}>
            It can:
          </p>
          <ul className="scope-list" aria-labelledby={`${id}-can`}>
            {app.scopes.map((s) => (
              <li key={s}>{scopeWords(s)}</li>
            ))}
          </ul>
        </>
      ) : (
        <p className="muted">It has no permissions beyond knowing who you are.</p>
      )}
      {asking ? (
        <Confirm
          dialog={dialog}
          question={`Disconnect ${app.appName}? It loses access to your account at once, and has to ask you again to get it back.`}
          yes="Disconnect"
          no="Keep"
          busy={state.isLoading}
          onYes={() =>
            void disconnect(app.grantId)
              .unwrap()
              .then(
                () => onDisconnected(app.appName),
                (err: unknown) =>
                  // Disconnected already (another tab): the list catches up by itself.
                  isApiError(err) && err.code === 'OAUTH_GRANT_NOT_FOUND'
                    ? onDisconnected(app.appName)
                    : onFailed(app.appName, err),
              )
          }
          onNo={() => setAsking(false)}
        />
      ) : (
        <button
          ref={opener}
          type="button"
          className="btn ghost sm"
          aria-label={`Disconnect ${app.appName}…`}
          onClick={() => {
            setAsking(true);
          }}
        >
          Disconnect…
        </button>
      )}
    </li>
  );
}

/** Settings → Security: the third-party apps the user allowed to act for them, each revocable. */
export function ConnectedApps() {
  const { data, error, isLoading, refetch } = useConnectedAppsQuery();
  const [status, setStatus] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  return (
    <section className="panel" id="connected-apps" aria-labelledby="connected-title">
      <h2 id="connected-title" tabIndex={-1} ref={heading}>
        Connected apps
      </h2>
      <p className="muted">
        Apps you allowed to use your Neon account. Disconnecting one ends its access at once.
      </p>
      <p className="hint" role="status">
        {status}
      </p>
      {failure && (
        <div className="alert" role="alert">
          {failure}
        </div>
      )}
      {isLoading ? (
        <Spinner />
      ) : error || !data ? (
        <ErrorState
          title="Could not load your connected apps"
          error={error}
          onRetry={() => void refetch()}
        />
      ) : data.items.length === 0 ? (
        <p>No apps are connected to your account.</p>
      ) : (
        <ul className="app-list">
          {data.items.map((app) => (
            <Connection
              key={app.grantId}
              app={app}
              onFailed={(name, err) => {
                setStatus('');
                setFailure(`${name} is still connected: ${errorText(err)}`);
              }}
              onDisconnected={(name) => {
                setFailure(null);
                setStatus(`Disconnected ${name}.`);
                // The button that was focused is gone with its app.
                setTimeout(() => heading.current?.focus(), 0);
              }}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
