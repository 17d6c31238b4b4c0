import { useState } from 'react';
import type { TotpEnrolment } from '@neon/contracts';
import {
  useBeginTotpMutation,
  useConfirmTotpMutation,
  useDisableTotpMutation,
  useMfaStatusQuery,
  useRegenerateRecoveryCodesMutation,
} from '../api/account-api';
import { isApiError, messageFor } from '../api/errors';
import { ErrorState } from '../components/ErrorState';
import { useTitle } from '../hooks';
import { CodeForm } from './CodeForm';
import { ConnectedApps } from './ConnectedApps';
import { EmailSettings } from './EmailSettings';
import { Sessions } from './Sessions';
import { StepUpPrompt } from './StepUp';

function RecoveryCodeList({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  return (
    <div className="recovery-codes" role="region" aria-labelledby="recovery-title">
      <h3 id="recovery-title">Your recovery codes</h3>
      <p>
        Each code signs you in once if you lose your phone. Keep them somewhere safe: they are shown
        only now.
      </p>
      <ul className="code-list" data-testid="recovery-codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <button type="button" className="btn" onClick={onDone}>
        I have saved them
      </button>
    </div>
  );
}

function Enrol({ onCodes }: { onCodes: (codes: string[]) => void }) {
  const [begin, beginState] = useBeginTotpMutation();
  const [confirm, confirmState] = useConfirmTotpMutation();
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!enrolment)
    return (
      <>
        {error && (
          <div className="alert" role="alert">
            {error}
          </div>
        )}
        <button
          type="button"
          className="btn"
          disabled={beginState.isLoading}
          onClick={() =>
            void begin()
              .unwrap()
              .then(setEnrolment, (err: unknown) =>
                setError(isApiError(err) ? err.message : messageFor('INTERNAL')),
              )
          }
        >
          Set up an authenticator app
        </button>
      </>
    );
  return (
    <div className="enrol">
      <ol>
        <li>
          Scan this code with your authenticator app (Google Authenticator, 1Password, Aegis…).
          <img className="qr" src={enrolment.qrCode} alt="QR code for your authenticator app" />
        </li>
        <li>
          Or type this key into the app: <code data-testid="totp-secret">{enrolment.secret}</code>
        </li>
        <li>Enter the 6-digit code the app shows.</li>
      </ol>
      <CodeForm
        submitLabel="Turn on"
        allowRecovery={false}
        busy={confirmState.isLoading}
        onCode={async (code) => onCodes((await confirm({ code }).unwrap()).recoveryCodes)}
      />
    </div>
  );
}

function Enabled({ left, onCodes }: { left: number; onCodes: (codes: string[]) => void }) {
  const [regenerate, regenState] = useRegenerateRecoveryCodesMutation();
  const [disable, disableState] = useDisableTotpMutation();
  const [needsStepUp, setNeedsStepUp] = useState(false);
  const [turningOff, setTurningOff] = useState(false);
  const [error, setError] = useState<string | null>(null);

  function newCodes() {
    setError(null);
    void regenerate()
      .unwrap()
      .then(
        (r) => onCodes(r.recoveryCodes),
        (err: unknown) => {
          if (isApiError(err) && err.code === 'AUTH_STEP_UP_REQUIRED') setNeedsStepUp(true);
          else setError(isApiError(err) ? err.message : messageFor('INTERNAL'));
        },
      );
  }

  return (
    <>
      <p>
        <strong>On.</strong> Signing in asks for a code from your authenticator app.{' '}
        <span data-testid="recovery-left">
          {left} recovery code{left === 1 ? '' : 's'} left.
        </span>
      </p>
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      {needsStepUp ? (
        <StepUpPrompt
          onDone={() => {
            setNeedsStepUp(false);
            newCodes();
          }}
        />
      ) : (
        <div className="row">
          <button
            type="button"
            className="btn ghost"
            disabled={regenState.isLoading}
            onClick={newCodes}
          >
            New recovery codes
          </button>
          <button type="button" className="btn danger" onClick={() => setTurningOff(true)}>
            Turn off
          </button>
        </div>
      )}
      {turningOff && (
        <div className="confirm" role="group" aria-labelledby="off-title">
          <p id="off-title">To turn two-factor authentication off, enter a current code.</p>
          <CodeForm
            submitLabel="Turn off two-factor"
            busy={disableState.isLoading}
            onCode={async (code) => {
              await disable({ code }).unwrap();
              setTurningOff(false);
            }}
          />
        </div>
      )}
    </>
  );
}

/** Settings → Security: the email address, the authenticator app, recovery codes, sessions and connected apps. */
export default function SecuritySettings() {
  useTitle('Security');
  const status = useMfaStatusQuery();
  const [codes, setCodes] = useState<string[] | null>(null);
  return (
    <div className="page settings">
      <h1>Security</h1>
      <EmailSettings />
      <section className="panel" aria-labelledby="totp-title">
        <h2 id="totp-title">Two-factor authentication</h2>
        {codes ? (
          <RecoveryCodeList codes={codes} onDone={() => setCodes(null)} />
        ) : status.isLoading ? (
          <p className="muted">Loading…</p>
        ) : status.error || !status.data ? (
          <ErrorState
            title="Could not load your security settings"
            error={status.error}
            onRetry={() => void status.refetch()}
          />
        ) : status.data.totp ? (
          <Enabled left={status.data.recoveryCodesLeft} onCodes={setCodes} />
        ) : (
          <>
            <p className="muted">
              Off. Add an authenticator app so a stolen password is not enough to take your channel.
            </p>
            <Enrol onCodes={setCodes} />
          </>
        )}
      </section>
      <Sessions />
      <ConnectedApps />
    </div>
  );
}
