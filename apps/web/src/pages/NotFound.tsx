import { Link } from 'react-router';
import { useTitle } from '../hooks';

export function NotFound({
  title = 'Page not found',
  message = 'There is nothing at this address. It may have moved, or the link is mistyped.',
}: {
  title?: string;
  message?: string;
}) {
  useTitle(title);
  return (
    <div className="state big">
      <div className="code-404" aria-hidden="true">
        404
      </div>
      <h1>{title}</h1>
      <p className="muted">{message}</p>
      <Link className="btn" to="/">
        Back to live channels
      </Link>
    </div>
  );
}
