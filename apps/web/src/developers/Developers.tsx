import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import type { OAuthApp, OAuthAppWithSecret } from '@neon/contracts';
import {
  useCreateOAuthAppMutation,
  useDeleteOAuthAppMutation,
  useOauthAppsQuery,
  useRotateOAuthSecretMutation,
  useUpdateOAuthAppMutation,
} from '../api/oauth-api';
import { CopyField } from '../components/CopyField';
import { Confirm } from '../components/Confirm';
import { ErrorState, Spinner } from '../components/ErrorState';
import { date } from '../format';
import { useDialogFocus, useTitle } from '../hooks';
import { AppForm } from './AppForm';
import { AppWebhooks } from './AppWebhooks';

/** Focus after the current render's effects (a closing dialog hands focus back in its own). */
function focusSoon(el: () => HTMLElement | null | undefined) {
  setTimeout(() => el()?.focus(), 0);
}

/**
 * The client secret of an app just registered or rotated. It exists only in
 * this component's state: the server keeps a hash, the cached list never has
 * it, and once this goes (dismissed, or the page left) it is gone for good.
 */
function SecretNotice({ app, onDone }: { app: OAuthAppWithSecret; onDone: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => focusSoon(() => heading.current), [app]);
  return (
    <section className="panel secret-notice" aria-labelledby="secret-title">
      <h2 id="secret-title" tabIndex={-1} ref={heading}>
        {app.clientSecret ? `Client secret of ${app.name}` : `${app.name} is registered`}
      </h2>
      {app.clientSecret ? (
        <>
          <p className="warning">
            <strong>
              Copy the secret now and keep it like a password. It will not be shown again:
            </strong>{' '}
            if you lose it, generate a new one.
          </p>
          <CopyField label="Client ID" value={app.clientId} testId="new-client-id" />
          <CopyField label="Client secret" value={app.clientSecret} testId="client-secret" />
        </>
      ) : (
        <>
          <p>
            A public client has no secret: your app proves each sign-in with PKCE instead. It needs
            only its client ID.
          </p>
          <CopyField label="Client ID" value={app.clientId} testId="new-client-id" />
        </>
      )}
      <button type="button" className="btn" onClick={onDone}>
        {app.clientSecret ? 'I have saved the secret' : 'Done'}
      </button>
    </section>
  );
}

function AppItem({
  app,
  onSecret,
  onDeleted,
  onStatus,
}: {
  app: OAuthApp;
  onSecret: (app: OAuthAppWithSecret) => void;
  onDeleted: (name: string) => void;
  onStatus: (text: string) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [asking, setAsking] = useState<'rotate' | 'delete' | null>(null);
  const [update] = useUpdateOAuthAppMutation();
  const [rotate, rotation] = useRotateOAuthSecretMutation();
  const [remove, removal] = useDeleteOAuthAppMutation();
  const editButton = useRef<HTMLButtonElement>(null);
  const rotateDialog = useDialogFocus<HTMLDivElement, HTMLButtonElement>(asking === 'rotate', () =>
    setAsking(null),
  );
  const deleteDialog = useDialogFocus<HTMLDivElement, HTMLButtonElement>(asking === 'delete', () =>
    setAsking(null),
  );
  const title = `app-${app.clientId}`;
  const endEdit = () => {
    setEditing(false);
    focusSoon(() => editButton.current);
  };

  return (
    <li className="app-item" aria-labelledby={title}>
      <div className="row between wrap">
        <h3 id={title}>{app.name}</h3>
        <span className="chip">
          {app.type === 'confidential' ? 'Confidential' : 'Public'} client
        </span>
      </div>
      {editing ? (
        <AppForm
          register={false}
          focusFirst
          submitLabel="Save changes"
          initial={{ name: app.name, redirectUris: app.redirectUris, type: app.type }}
          onCancel={endEdit}
          onSave={async ({ name, redirectUris }) => {
            await update({ clientId: app.clientId, name, redirectUris }).unwrap();
            onStatus(`Saved ${name}.`);
            endEdit();
          }}
        />
      ) : (
        <>
          <CopyField label="Client ID" value={app.clientId} of={app.name} testId="client-id" />
          <div className="field">
            <span className="label" id={`${title}-uris`}>
              Redirect URIs
            </span>
            <ul className="uri-list" aria-labelledby={`${title}-uris`}>
              {app.redirectUris.map((uri) => (
                <li key={uri}>
                  <code>{uri}</code>
                </li>
              ))}
            </ul>
          </div>
          <p className="hint">
            Registered {date(app.createdAt)}
            {app.type === 'confidential' &&
              (app.secretRotatedAt
                ? ` · secret last changed ${date(app.secretRotatedAt)}`
                : ' · secret from registration')}
          </p>
          {asking === 'rotate' ? (
            <Confirm
              dialog={rotateDialog.dialog}
              question={`Generate a new client secret for ${app.name}? The current secret stops working at once: your app needs the new one to get tokens.`}
              yes="Generate a new secret"
              busy={rotation.isLoading}
              error={rotation.error}
              onNo={() => setAsking(null)}
              onYes={() => {
                const call = rotate(app.clientId);
                void call.unwrap().then(
                  (rotated) => {
                    // As at registration: the secret is kept by the notice alone.
                    call.reset();
                    setAsking(null);
                    onSecret(rotated);
                  },
                  () => undefined,
                );
              }}
            />
          ) : asking === 'delete' ? (
            <Confirm
              dialog={deleteDialog.dialog}
              question={`Delete ${app.name}? Every user connected to it is disconnected and its tokens stop working at once. This cannot be undone.`}
              yes="Delete application"
              busy={removal.isLoading}
              error={removal.error}
              onNo={() => setAsking(null)}
              onYes={() =>
                void remove(app.clientId)
                  .unwrap()
                  .then(
                    () => onDeleted(app.name),
                    () => undefined,
                  )
              }
            />
          ) : (
            <div className="row wrap">
              <button
                ref={editButton}
                type="button"
                className="btn ghost sm"
                aria-label={`Edit ${app.name}`}
                onClick={() => setEditing(true)}
              >
                Edit
              </button>
              {app.type === 'confidential' && (
                <button
                  ref={rotateDialog.opener}
                  type="button"
                  className="btn ghost sm"
                  aria-label={`New secret for ${app.name}…`}
                  onClick={() => {
                    rotation.reset();
                    setAsking('rotate');
                  }}
                >
                  New secret…
                </button>
              )}
              <button
                ref={deleteDialog.opener}
                type="button"
                className="btn ghost sm"
                aria-label={`Delete ${app.name}…`}
                onClick={() => {
                  removal.reset();
                  setAsking('delete');
                }}
              >
                Delete…
              </button>
            </div>
          )}
          <AppWebhooks app={app} />
        </>
      )}
    </li>
  );
}

/** `/developers`: the applications the signed-in user registered for Neon's public API. */
export default function Developers() {
  useTitle('Developer console');
  const apps = useOauthAppsQuery();
  const [create] = useCreateOAuthAppMutation();
  const [registering, setRegistering] = useState(false);
  const [shown, setShown] = useState<OAuthAppWithSecret | null>(null);
  const [status, setStatus] = useState('');
  const registerButton = useRef<HTMLButtonElement>(null);
  const registerHeading = useRef<HTMLHeadingElement>(null);
  const listHeading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (registering) registerHeading.current?.focus();
  }, [registering]);

  const items = apps.data?.items ?? [];
  return (
    <div className="page narrow-wide developers">
      <div className="page-head">
        <h1>Developer console</h1>
        {!registering && (
          <button
            ref={registerButton}
            type="button"
            className="btn"
            onClick={() => {
              setStatus('');
              setRegistering(true);
            }}
          >
            Register an application
          </button>
        )}
      </div>
      <p className="muted intro">
        Register an application to use Neon’s public API for the Neon users who allow it (OAuth 2.0:
        authorization code with PKCE, or client credentials for the app itself).{' '}
        <Link to="/developers/docs">Endpoints, scopes and the authorization flow</Link>
      </p>

      {shown && (
        <SecretNotice
          app={shown}
          onDone={() => {
            setShown(null);
            focusSoon(() => listHeading.current);
          }}
        />
      )}

      {registering && (
        <section className="panel" aria-labelledby="register-title">
          <h2 id="register-title" tabIndex={-1} ref={registerHeading}>
            Register an application
          </h2>
          <AppForm
            register
            submitLabel="Register"
            initial={{ name: '', redirectUris: [''], type: 'confidential' }}
            onCancel={() => {
              setRegistering(false);
              focusSoon(() => registerButton.current);
            }}
            onSave={async (draft) => {
              const call = create(draft);
              const created = await call.unwrap();
              // The secret stays in this page's state only, not in the store's record of the call.
              call.reset();
              setRegistering(false);
              setShown(created);
            }}
          />
        </section>
      )}

      <section className="panel" aria-labelledby="apps-title">
        <h2 id="apps-title" tabIndex={-1} ref={listHeading}>
          Your applications
        </h2>
        <p className="hint" role="status">
          {status}
        </p>
        {apps.isLoading ? (
          <Spinner />
        ) : apps.error || !apps.data ? (
          <ErrorState
            title="Could not load your applications"
            error={apps.error}
            onRetry={() => void apps.refetch()}
          />
        ) : items.length === 0 ? (
          <p className="muted">
            You have not registered an application yet. Register one to get a client ID.
          </p>
        ) : (
          <ul className="app-list">
            {items.map((app) => (
              <AppItem
                key={app.clientId}
                app={app}
                onStatus={setStatus}
                onSecret={(rotated) => {
                  setStatus('');
                  setShown(rotated);
                }}
                onDeleted={(name) => {
                  if (shown?.clientId === app.clientId) setShown(null);
                  setStatus(`Deleted ${name}.`);
                  focusSoon(() => listHeading.current);
                }}
              />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
