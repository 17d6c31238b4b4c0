import { Link } from 'react-router';
import { errorText } from '../api/errors';

export function ErrorState({
  title = 'Something went wrong',
  error,
  message,
  onRetry,
}: {
  title?: string;
  error?: unknown;
  message?: string;
  onRetry?: () => void;
}) {
  return (
    <div className="state" role="alert">
      <h2>{title}</h2>
      <p className="muted">{message ?? errorText(error)}</p>
      <div className="row center">
        {onRetry && (
          <button type="button" className="btn" onClick={onRetry}>
            Try again
          </button>
        )}
        <Link className="btn ghost" to="/">
          Back to home
        </Link>
      </div>
    </div>
  );
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <div className="state" aria-busy="true">
      <span className="spinner" aria-hidden="true" />
      <span className="sr-only">{label}</span>
    </div>
  );
}
