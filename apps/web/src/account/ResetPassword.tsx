import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useConfirmPasswordResetMutation } from '../api/email-api';
import { isApiError, messageFor } from '../api/errors';
import { AuthPanel } from '../components/AuthPanel';
import { Field } from '../components/Field';
import { useFocusHeading, useTitle } from '../hooks';
import { limits, validatePassword } from '../validation';

type Errors = { password?: string | undefined; repeat?: string | undefined };

/** `/reset-password?token=…`: the page the reset mail links to. */
export default function ResetPassword() {
  useTitle('Choose a new password');
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [confirm, state] = useConfirmPasswordResetMutation();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [linkDead, setLinkDead] = useState(token === '');
  const [done, setDone] = useState(false);
  const heading = useFocusHeading(done || linkDead);

  function validate(): Errors {
    const found: Errors = {};
    const p = validatePassword(password);
    if (p) found.password = p;
    if (repeat !== password) found.repeat = 'The two passwords differ.';
    return found;
  }

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setFormError(null);
    const found = validate();
    setErrors(found);
    if (found.password || found.repeat) return;
    try {
      await confirm({ token, password }).unwrap();
      setDone(true);
    } catch (err) {
      if (!isApiError(err)) return setFormError(messageFor('INTERNAL'));
      if (err.code === 'AUTH_EMAIL_TOKEN_INVALID') return setLinkDead(true);
      if (err.code === 'AUTH_PASSWORD_TOO_COMMON') return setErrors({ password: err.message });
      // A token the server would not even read (cut short when copied) is a dead link too.
      if (err.code === 'VALIDATION_FAILED' && err.fields['body.token']) return setLinkDead(true);
      setFormError(err.message);
    }
  }

  if (done)
    return (
      <AuthPanel title="Password changed" headingRef={heading}>
        <p role="status" data-testid="reset-done">
          Your new password is set. Every device signed in to your account was signed out.
        </p>
        <Link className="btn block" to="/login">
          Log in
        </Link>
      </AuthPanel>
    );

  if (linkDead)
    return (
      <AuthPanel title="This link does not work" headingRef={heading}>
        <p role="alert">
          It was already used, it expired (links work for 30 minutes), or it was cut short when
          copied. Ask for a new one.
        </p>
        <Link className="btn block" to="/forgot-password">
          Get a new link
        </Link>
      </AuthPanel>
    );

  return (
    <AuthPanel title="Choose a new password" headingRef={heading} onSubmit={(e) => void submit(e)}>
      <p className="muted">Setting it signs you out on every device.</p>
      {formError && (
        <div className="alert" role="alert">
          {formError}
        </div>
      )}
      <Field
        label="New password"
        name="password"
        type="password"
        autoComplete="new-password"
        value={password}
        error={errors.password}
        hint={`At least ${limits.password.minLength} characters.`}
        onValue={setPassword}
      />
      <Field
        label="Repeat the new password"
        name="repeat"
        type="password"
        autoComplete="new-password"
        value={repeat}
        error={errors.repeat}
        onValue={setRepeat}
      />
      <button className="btn block" type="submit" disabled={state.isLoading}>
        {state.isLoading ? 'Please wait…' : 'Set the new password'}
      </button>
    </AuthPanel>
  );
}
