import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { VerifyEmailResponse } from '@neon/contracts';
import { useVerifyEmailMutation } from '../api/email-api';
import { userUpdated } from '../api/session';
import { isApiError, messageFor } from '../api/errors';
import { useFocusHeading, useTitle } from '../hooks';
import { useAppDispatch, useSession } from '../store';

/**
 * `/verify-email?token=…`: the page the verification mail links to. It asks
 * for a click rather than verifying on load: mail scanners open links too.
 */
export default function VerifyEmail() {
  useTitle('Confirm your email');
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [verify, state] = useVerifyEmailMutation();
  const { user } = useSession();
  const dispatch = useAppDispatch();
  const [verified, setVerified] = useState<VerifyEmailResponse | null>(null);
  const [error, setError] = useState<string | null>(
    token ? null : 'This link is incomplete: open the whole link from the mail.',
  );
  const heading = useFocusHeading(verified !== null);

  async function confirm() {
    setError(null);
    try {
      const result = await verify({ token }).unwrap();
      setVerified(result);
      if (user && user.email === result.email)
        dispatch(userUpdated({ ...user, emailVerified: true }));
    } catch (err) {
      setError(
        isApiError(err) &&
          (err.code === 'AUTH_EMAIL_TOKEN_INVALID' || err.code === 'VALIDATION_FAILED')
          ? 'This link does not work any more: it was used already, or it expired (links work for 24 hours). Send a new one from Settings → Security.'
          : isApiError(err)
            ? err.message
            : messageFor('INTERNAL'),
      );
    }
  }

  return (
    <div className="auth">
      <div className="panel auth-panel" role="group" aria-labelledby="verify-title">
        <h1 id="verify-title" ref={heading} tabIndex={-1}>
          {verified ? 'Address confirmed' : 'Confirm your email address'}
        </h1>
        <div role="status" aria-live="polite">
          {verified && (
            <p data-testid="email-verified">
              <strong>{verified.email}</strong> is confirmed. Thank you!
            </p>
          )}
        </div>
        {error && (
          <div className="alert" role="alert">
            {error}
          </div>
        )}
        {verified ? (
          <Link className="btn block" to={user ? '/settings/security' : '/login'}>
            {user ? 'Back to settings' : 'Log in'}
          </Link>
        ) : (
          token && (
            <button
              type="button"
              className="btn block"
              disabled={state.isLoading}
              onClick={() => void confirm()}
            >
              {state.isLoading ? 'Please wait…' : 'Confirm my address'}
            </button>
          )
        )}
      </div>
    </div>
  );
}
