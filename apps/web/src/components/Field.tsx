import { useId } from 'react';

export interface FieldProps extends Omit<React.InputHTMLAttributes<HTMLInputElement>, 'onChange'> {
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  onValue: (value: string) => void;
  multiline?: boolean;
}

/** A labelled input whose error is announced and tied to it for screen readers. */
export function Field({ label, error, hint, onValue, multiline, ...input }: FieldProps) {
  const id = useId();
  const describedBy =
    [error ? `${id}-err` : null, hint ? `${id}-hint` : null].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    className: `input${error ? ' invalid' : ''}`,
    'aria-invalid': Boolean(error),
    'aria-describedby': describedBy,
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {multiline ? (
        <textarea
          {...common}
          name={input.name}
          value={input.value}
          placeholder={input.placeholder}
          rows={3}
          onChange={(e) => onValue(e.target.value)}
          onBlur={input.onBlur as unknown as React.FocusEventHandler<HTMLTextAreaElement>}
        />
      ) : (
        <input {...input} {...common} onChange={(e) => onValue(e.target.value)} />
      )}
      {hint && !error && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-err`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
