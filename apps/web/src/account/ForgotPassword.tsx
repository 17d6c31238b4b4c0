import { useState } from 'react';
import { Link } from 'react-router';
import { PASSWORD_RESET_TTL_SECONDS } from '@neon/contracts';
import { useRequestPasswordResetMutation } from '../api/email-api';
import { isApiError, messageFor } from '../api/errors';
import { AuthPanel } from '../components/AuthPanel';
import { Field } from '../components/Field';
import { useFocusHeading, useTitle } from '../hooks';
import { validateEmail } from '../validation';

/** `/forgot-password`: asks for a reset link by mail. */
export default function ForgotPassword() {
  useTitle('Forgot password');
  const heading = useFocusHeading();
  const [request, state] = useRequestPasswordResetMutation();
  const [email, setEmail] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [formError, setFormError] = useState<string | null>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setFormError(null);
    const address = email.trim();
    const problem = validateEmail(address);
    setError(problem);
    if (problem) return;
    try {
      await request({ email: address }).unwrap();
      setSentTo(address);
    } catch (err) {
      setFormError(isApiError(err) ? err.message : messageFor('INTERNAL'));
    }
  }

  return (
    <AuthPanel title="Reset your password" headingRef={heading} onSubmit={(e) => void submit(e)}>
      <p className="muted">
        Enter the email address of your account and we will send you a link to choose a new
        password.
      </p>
      <div role="status" aria-live="polite" className="status-region">
        {sentTo && (
          <p className="notice" data-testid="reset-requested">
            If an account uses <strong>{sentTo}</strong>, a link to reset its password is on its
            way. It works once, within {Math.round(PASSWORD_RESET_TTL_SECONDS / 60)} minutes.
            Nothing arrived? Check your spam folder, or ask again.
          </p>
        )}
      </div>
      {formError && (
        <div className="alert" role="alert">
          {formError}
        </div>
      )}
      <Field
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        value={email}
        error={error}
        onValue={(v) => {
          setEmail(v);
          if (error) setError(validateEmail(v.trim()));
        }}
      />
      <button className="btn block" type="submit" disabled={state.isLoading}>
        {state.isLoading ? 'Please wait…' : sentTo ? 'Send another link' : 'Send the link'}
      </button>
      <p className="muted small center">
        Remembered it? <Link to="/login">Log in</Link>
      </p>
    </AuthPanel>
  );
}
