import { useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { useLogoutMutation } from '../api/api';
import { errorText, isApiError } from '../api/errors';
import { useAuthorizePreviewQuery, useConsentMutation } from '../api/oauth-api';
import { Avatar } from '../components/Avatar';
import { Spinner } from '../components/ErrorState';
import { useTitle } from '../hooks';
import { useSession } from '../store';
import { consentBody, requestProblem } from './authorize-request';

/** What went wrong with the request itself, said to the user (the app cannot be told safely). */
function previewError(error: unknown): string {
  if (!isApiError(error)) return errorText(error);
  switch (error.code) {
    case 'OAUTH_CLIENT_INVALID':
      return 'No application is registered with this client ID. The link that brought you here may be broken or out of date.';
    case 'OAUTH_REDIRECT_URI_INVALID':
      return 'The application asked Neon to send you to an address it did not register. For your safety, Neon will not send you there.';
    case 'VALIDATION_FAILED':
      return error.fields.scope
        ? 'The application asked for a permission that does not exist on Neon.'
        : 'The application’s request is incomplete or malformed.';
    default:
      return error.message;
  }
}

function RequestError({
  message,
  back,
}: {
  message: string;
  /** When the app and its redirect URI are known good, it is told why (RFC 6749 §4.1.2.1). */
  back?: { origin: string; onBack: () => void; busy: boolean };
}) {
  return (
    <div className="auth consent">
      <div className="panel auth-panel" role="alert">
        <h1>This authorization request cannot be completed</h1>
        <p>{message}</p>
        <p className="muted">
          Nothing was shared with the application. Go back to it and try again, or tell its
          developer.
        </p>
        {back ? (
          <button type="button" className="btn" disabled={back.busy} onClick={back.onBack}>
            {back.busy ? `Sending you to ${back.origin}…` : `Back to ${back.origin}`}
          </button>
        ) : (
          <Link className="btn ghost" to="/">
            Back to Neon
          </Link>
        )}
      </div>
    </div>
  );
}

/**
 * `/oauth/authorize`, the authorization endpoint (RFC 6749 §3.1) as a page:
 * an app sends the user here with its request in the query string. The
 * server checks the app and its redirect URI first; a request it refuses is
 * explained here and never redirected anywhere. Otherwise the user sees who
 * asks, for what, as whom, and where they will be sent; their answer is
 * posted, and the server's redirect (a code, or `error=access_denied`, with
 * the app's `state`) is followed.
 */
export default function Consent() {
  const { search, pathname } = useLocation();
  const query = search.replace(/^\?/, '');
  const { user } = useSession();
  const preview = useAuthorizePreviewQuery(query, { skip: query === '' });
  const [consent] = useConsentMutation();
  const [logout] = useLogoutMutation();
  const navigate = useNavigate();
  const [answering, setAnswering] = useState<'allow' | 'deny' | 'done' | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  // The answer for this query string only: a previous request's preview is never shown for it.
  const app = preview.currentData;
  useTitle(app ? `Authorize ${app.appName}` : 'Authorize an application');

  if (query === '')
    return (
      <RequestError message="An application opens this page with its request in the address. This address has none." />
    );
  if (preview.isFetching && !app) return <Spinner label="Checking the request" />;
  if (preview.error || !app) return <RequestError message={previewError(preview.error)} />;
  let origin = app.redirectUri;
  try {
    origin = new URL(app.redirectUri).origin;
  } catch {
    // The server matched it against a registered URI: it parses. Shown whole if not.
  }

  async function answer(allowed: boolean) {
    setAnswering(allowed ? 'allow' : 'deny');
    setFailure(null);
    try {
      const { redirectTo } = await consent(consentBody(query, allowed)).unwrap();
      // The server builds it from the redirect URI it checked; the page follows nothing else.
      if (new URL(redirectTo).origin !== origin) throw new Error('unexpected redirect');
      setAnswering('done');
      window.location.assign(redirectTo);
    } catch (err) {
      setAnswering(null);
      setFailure(isApiError(err) ? previewError(err) : errorText(err));
    }
  }

  const problem = requestProblem(query);
  if (problem)
    return (
      <RequestError
        message={problem}
        // The answer carries the server's own error for the request back to the app.
        back={{ origin, onBack: () => void answer(false), busy: answering !== null }}
      />
    );

  const name = user?.displayName || user?.username || '';
  return (
    <div className="auth consent">
      <section className="panel auth-panel" aria-labelledby="consent-title">
        <h1 id="consent-title">{app.appName} wants to access your Neon account</h1>
        {user && (
          <div className="consent-account">
            <Avatar name={name} url={user.avatarUrl} size={40} />
            <p>
              Signed in as <strong>{name}</strong> <span className="muted">@{user.username}</span>
              <br />
              <button
                type="button"
                className="link-button"
                disabled={answering !== null}
                onClick={() =>
                  void logout().then(() =>
                    navigate(`/login?next=${encodeURIComponent(pathname + search)}`),
                  )
                }
              >
                Not you? Use another account
              </button>
            </p>
          </div>
        )}
        {app.scopes.length > 0 ? (
          <>
            <h2 className="consent-sub" id="scopes-title">
              This will allow {app.appName} to:
            </h2>
            <ul className="scope-list" aria-labelledby="scopes-title">
              {app.scopes.map((s) => (
                <li key={s.name}>{s.description}</li>
              ))}
            </ul>
          </>
        ) : (
          <p>
            {app.appName} asks for no permissions: it will know who you are on Neon and what anyone
            can see.
          </p>
        )}
        <p className="muted">
          Once you choose, Neon sends you to <strong className="origin">{origin}</strong>. Only
          authorize apps you trust. You can disconnect it at any time in{' '}
          <Link to="/settings/security">Settings → Security</Link>.
        </p>
        {failure && (
          <div className="alert" role="alert">
            {failure}
          </div>
        )}
        <div className="row consent-actions">
          <button
            type="button"
            className="btn ghost"
            disabled={answering !== null}
            onClick={() => void answer(false)}
          >
            Cancel
          </button>
          <button
            type="button"
            className="btn"
            disabled={answering !== null}
            onClick={() => void answer(true)}
          >
            Authorize
          </button>
        </div>
        <p className="hint" role="status" aria-live="polite">
          {answering === null ? '' : `Sending you to ${origin}…`}
        </p>
      </section>
    </div>
  );
}
