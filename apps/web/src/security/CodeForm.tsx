import { useState } from 'react';
import { isApiError, messageFor } from '../api/errors';
import { Field } from '../components/Field';

export interface CodeFormProps {
  label?: string;
  submitLabel: string;
  /** Sends the code; rejects with an ApiError the form shows. */
  onCode: (code: string) => Promise<unknown>;
  busy?: boolean;
  allowRecovery?: boolean;
}

/** One authenticator (or recovery) code, sent as typed. */
export function CodeForm({
  label,
  submitLabel,
  onCode,
  busy,
  allowRecovery = true,
}: CodeFormProps) {
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | undefined>();
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const value = code.trim();
    if (!value) {
      setError('Enter the code from your authenticator app.');
      return;
    }
    setError(undefined);
    try {
      await onCode(value);
      setCode('');
    } catch (err) {
      setError(isApiError(err) ? (err.fields.code ?? err.message) : messageFor('INTERNAL'));
    }
  }
  return (
    <form className="code-form" onSubmit={(e) => void submit(e)} noValidate>
      <Field
        label={label ?? 'Authentication code'}
        name="code"
        autoComplete="one-time-code"
        inputMode={allowRecovery ? 'text' : 'numeric'}
        autoCapitalize="none"
        spellCheck={false}
        value={code}
        error={error}
        hint={
          allowRecovery
            ? 'The 6-digit code from your app, or one of your recovery codes.'
            : 'The 6-digit code your app shows now.'
        }
        onValue={setCode}
      />
      <button className="btn" type="submit" disabled={busy}>
        {busy ? 'Checking…' : submitLabel}
      </button>
    </form>
  );
}
