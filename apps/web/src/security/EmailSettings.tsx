import { useState, type FormEvent } from 'react';
import {
  useChangeEmailMutation,
  useMeQuery,
  useResendVerificationMutation,
} from '../api/email-api';
import { isApiError, messageFor } from '../api/errors';
import { useSession } from '../store';
import { Field } from '../components/Field';
import { StepUpPrompt } from './StepUp';

/** Settings → Security: the account's address, whether it is confirmed, and a new link. */
export function EmailSettings() {
  const { user } = useSession();
  // Asked again on opening: the address may have been confirmed in another tab.
  const fresh = useMeQuery();
  const [resend, state] = useResendVerificationMutation();
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const account = fresh.data ?? user;
  if (!account) return null;

  async function send() {
    setStatus(null);
    setError(null);
    try {
      await resend().unwrap();
      setStatus(`A new link is on its way to ${account!.email}. It works for 24 hours.`);
    } catch (err) {
      if (isApiError(err) && err.code === 'AUTH_EMAIL_ALREADY_VERIFIED') {
        void fresh.refetch();
        setStatus('Your address is confirmed already.');
      } else setError(isApiError(err) ? err.message : messageFor('INTERNAL'));
    }
  }

  return (
    <section className="panel" aria-labelledby="email-title">
      <h2 id="email-title">Email</h2>
      <p>
        <span className="account-email" data-testid="account-email">
          {account.email}
        </span>{' '}
        {account.emailVerified ? (
          <span className="badge email-state ok" data-testid="email-state">
            Confirmed
          </span>
        ) : (
          <span className="badge email-state warn" data-testid="email-state">
            Not confirmed
          </span>
        )}
      </p>
      {!account.emailVerified && (
        <>
          <p className="muted">
            We sent a link to this address when you signed up. Lost it? Get a new one.
          </p>
          <button
            type="button"
            className="btn ghost"
            disabled={state.isLoading}
            onClick={() => void send()}
          >
            Resend the confirmation link
          </button>
        </>
      )}
      <div role="status" aria-live="polite">
        {status && <p className="notice">{status}</p>}
      </div>
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      <ChangeEmail current={account.email} />
    </section>
  );
}

/**
 * A new address, confirmed by the current password: a link goes to the new
 * address and the change happens when it is opened (the old address is told).
 */
function ChangeEmail({ current }: { current: string }) {
  const [open, setOpen] = useState(false);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [change, state] = useChangeEmailMutation();
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [error, setError] = useState<{ field: 'email' | 'password' | null; text: string } | null>(
    null,
  );
  const [needsStepUp, setNeedsStepUp] = useState(false);

  async function submit(e?: FormEvent) {
    e?.preventDefault();
    setError(null);
    setSentTo(null);
    const address = email.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) {
      setError({ field: 'email', text: 'Enter an email address, like name@example.com.' });
      return;
    }
    try {
      await change({ email: address, password }).unwrap();
      setSentTo(address);
      setPassword('');
      setOpen(false);
    } catch (err) {
      if (isApiError(err) && err.code === 'AUTH_STEP_UP_REQUIRED') setNeedsStepUp(true);
      else if (isApiError(err) && err.code === 'AUTH_PASSWORD_WRONG')
        setError({ field: 'password', text: err.message });
      else if (
        isApiError(err) &&
        ['AUTH_EMAIL_TAKEN', 'AUTH_EMAIL_UNCHANGED', 'VALIDATION_FAILED'].includes(err.code)
      )
        setError({ field: 'email', text: err.message });
      else setError({ field: null, text: isApiError(err) ? err.message : messageFor('INTERNAL') });
    }
  }

  return (
    <div className="change-email">
      <div role="status" aria-live="polite">
        {sentTo && (
          <p className="notice" data-testid="email-change-sent">
            We sent a link to <strong>{sentTo}</strong>. Your address changes when you open it
            (within 24 hours); until then, keep using {current}.
          </p>
        )}
      </div>
      {needsStepUp ? (
        <StepUpPrompt
          onDone={() => {
            setNeedsStepUp(false);
            void submit();
          }}
        />
      ) : !open ? (
        <button type="button" className="btn ghost" onClick={() => setOpen(true)}>
          Change email
        </button>
      ) : (
        <form noValidate onSubmit={(e) => void submit(e)}>
          <Field
            label="New email address"
            name="email"
            type="email"
            autoComplete="email"
            autoCapitalize="none"
            value={email}
            error={error?.field === 'email' ? error.text : undefined}
            onValue={setEmail}
          />
          <Field
            label="Current password"
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            error={error?.field === 'password' ? error.text : undefined}
            onValue={setPassword}
          />
          {error?.field === null && (
            <div className="alert" role="alert">
              {error.text}
            </div>
          )}
          <div className="row">
            <button type="submit" className="btn" disabled={state.isLoading}>
              {state.isLoading ? 'Please wait…' : 'Send the link'}
            </button>
            <button type="button" className="btn ghost" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
