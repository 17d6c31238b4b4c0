import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import type { MfaChallenge } from '@neon/contracts';
import { useMfaSignInMutation } from '../api/account-api';
import { useLoginMutation, useRegisterMutation } from '../api/api';
import { isApiError, messageFor, type ApiError } from '../api/errors';
import { AuthPanel } from '../components/AuthPanel';
import { Field } from '../components/Field';
import { useTitle } from '../hooks';
import { CodeForm } from '../security/CodeForm';
import {
  limits,
  validateLogin,
  validateSignup,
  type LoginForm,
  type SignupForm,
} from '../validation';

/** Which field a server error belongs to, so it shows where the user can fix it. */
const fieldOfCode: Record<string, string> = {
  AUTH_USERNAME_TAKEN: 'username',
  AUTH_USERNAME_RESERVED: 'username',
  AUTH_EMAIL_TAKEN: 'email',
  AUTH_PASSWORD_TOO_COMMON: 'password',
};

type Errors = Record<string, string | undefined>;

function serverErrors(err: ApiError): { fields: Errors; form: string | null } {
  const field = fieldOfCode[err.code];
  if (field) return { fields: { [field]: err.message }, form: null };
  if (Object.keys(err.fields).length > 0) return { fields: err.fields, form: null };
  return { fields: {}, form: err.message };
}

/** Only same-site paths: `next` comes from the URL and must not send users elsewhere. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

/** The second step of a sign-in: the password was right, a code from the app is due. */
function SecondFactorStep({
  challenge,
  onDone,
  onRestart,
}: {
  challenge: MfaChallenge;
  onDone: () => void;
  onRestart: (message: string) => void;
}) {
  const [verify, state] = useMfaSignInMutation();
  return (
    <AuthPanel title="Two-factor authentication">
      <p className="muted">Open your authenticator app and enter the code it shows for Neon.</p>
      <CodeForm
        submitLabel="Verify"
        busy={state.isLoading}
        onCode={async (code) => {
          try {
            await verify({ challenge: challenge.challenge, code }).unwrap();
          } catch (err) {
            // The challenge died (expired, used, too many tries): the password is needed again.
            if (isApiError(err) && err.code === 'MFA_CHALLENGE_INVALID') {
              onRestart(err.message);
              return;
            }
            throw err;
          }
          onDone();
        }}
      />
      <p className="muted small">Lost your phone? Enter one of your recovery codes instead.</p>
      <button type="button" className="btn ghost" onClick={() => onRestart('')}>
        Back
      </button>
    </AuthPanel>
  );
}

export default function Auth({ mode }: { mode: 'login' | 'signup' }) {
  const signup = mode === 'signup';
  useTitle(signup ? 'Sign up' : 'Log in');
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const navigate = useNavigate();
  const [register, reg] = useRegisterMutation();
  const [login, log] = useLoginMutation();
  const [form, setForm] = useState<SignupForm & LoginForm>({
    username: '',
    email: '',
    password: '',
    login: '',
  });
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [challenge, setChallenge] = useState<MfaChallenge | null>(null);
  const busy = reg.isLoading || log.isLoading;

  const validate = (f: typeof form): Errors => (signup ? validateSignup(f) : validateLogin(f));

  function set(name: keyof typeof form, value: string) {
    const nextForm = { ...form, [name]: value };
    setForm(nextForm);
    // Re-check a field the user already left, so the message goes away as they fix it.
    if (touched[name])
      setErrors((e) => ({ ...e, [name]: validate(nextForm)[name as keyof Errors] }));
  }

  function blur(name: keyof typeof form) {
    setTouched((t) => ({ ...t, [name]: true }));
    if (form[name]) setErrors((e) => ({ ...e, [name]: validate(form)[name] }));
  }

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setFormError(null);
    const found = validate(form);
    setErrors(found);
    setTouched({ username: true, email: true, password: true, login: true });
    if (Object.values(found).some(Boolean)) return;
    try {
      if (signup) {
        await register({
          username: form.username,
          email: form.email,
          password: form.password,
        }).unwrap();
      } else {
        const outcome = await login({ login: form.login.trim(), password: form.password }).unwrap();
        if ('mfaRequired' in outcome) {
          setChallenge(outcome);
          return;
        }
      }
      void navigate(next, { replace: true });
    } catch (err) {
      if (!isApiError(err)) {
        setFormError(messageFor('INTERNAL'));
        return;
      }
      const s = serverErrors(err);
      setErrors(s.fields);
      setFormError(s.form);
    }
  }

  if (challenge)
    return (
      <SecondFactorStep
        challenge={challenge}
        onDone={() => void navigate(next, { replace: true })}
        onRestart={(message) => {
          setChallenge(null);
          setForm((f) => ({ ...f, password: '' }));
          setFormError(message || null);
        }}
      />
    );

  return (
    <AuthPanel
      title={signup ? 'Create your account' : 'Welcome back'}
      onSubmit={(e) => void submit(e)}
    >
      <p className="muted">
        {signup ? 'Your username is also your channel’s address.' : 'Log in to chat and stream.'}
      </p>
      {formError && (
        <div className="alert" role="alert">
          {formError}
        </div>
      )}
      {signup ? (
        <>
          <Field
            label="Username"
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            value={form.username}
            error={errors.username}
            hint={`${limits.username.minLength}–${limits.username.maxLength} characters: a–z, 0–9 and _`}
            onValue={(v) => set('username', v)}
            onBlur={() => blur('username')}
          />
          <Field
            label="Email"
            name="email"
            type="email"
            autoComplete="email"
            value={form.email}
            error={errors.email}
            onValue={(v) => set('email', v)}
            onBlur={() => blur('email')}
          />
        </>
      ) : (
        <Field
          label="Username or email"
          name="login"
          autoComplete="username"
          autoCapitalize="none"
          value={form.login}
          error={errors.login}
          onValue={(v) => set('login', v)}
          onBlur={() => blur('login')}
        />
      )}
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete={signup ? 'new-password' : 'current-password'}
        value={form.password}
        error={errors.password}
        hint={signup ? `At least ${limits.password.minLength} characters.` : undefined}
        onValue={(v) => set('password', v)}
        onBlur={() => blur('password')}
      />
      {!signup && (
        <Link className="forgot" to="/forgot-password">
          Forgot password?
        </Link>
      )}
      <button className="btn block" type="submit" disabled={busy}>
        {busy ? 'Please wait…' : signup ? 'Sign up' : 'Log in'}
      </button>
      <p className="muted small center">
        {signup ? (
          <>
            Already have an account?{' '}
            <Link to={`/login?next=${encodeURIComponent(next)}`}>Log in</Link>
          </>
        ) : (
          <>
            New to Neon?{' '}
            <Link to={`/signup?next=${encodeURIComponent(next)}`}>Create an account</Link>
          </>
        )}
      </p>
    </AuthPanel>
  );
}
