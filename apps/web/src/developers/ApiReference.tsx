import { lazy, Suspense, useCallback, useId, useRef } from 'react';
import { Link } from 'react-router';
import { PUBLIC_OPENAPI_PATH } from '@neon/contracts';
import { Spinner } from '../components/ErrorState';
import { useTitle } from '../hooks';

// Swagger UI is most of this page's weight: a chunk of its own, fetched after the page shows.
const SwaggerReference = lazy(() => import('./SwaggerReference'));

/**
 * `/developers/reference`: every operation of the public API, rendered from
 * its OpenAPI document, with "Try it out" using an access token the reader
 * pastes. The token lives in this page's memory only.
 */
export default function ApiReference() {
  useTitle('Public API reference');
  const id = useId();
  const token = useRef('');
  const readToken = useCallback(() => token.current, []);
  return (
    <div className="page developers api-reference-page">
      <div className="page-head">
        <h1>Public API reference</h1>
        <Link className="btn ghost" to="/developers/docs">
          OAuth for developers
        </Link>
      </div>
      <p className="intro muted">
        Every operation of <code>/public/v1</code>, its parameters, answers and the scope it needs,
        read from the API’s OpenAPI 3.1 document (<a href={PUBLIC_OPENAPI_PATH}>openapi.json</a>).
        How to get a token is in <Link to="/developers/docs">OAuth for developers</Link>.
      </p>
      <section className="panel" aria-labelledby={`${id}-title`}>
        <h2 id={`${id}-title`}>Try it out</h2>
        <div className="field">
          <label htmlFor={`${id}-token`}>Access token</label>
          <input
            id={`${id}-token`}
            className="input"
            type="password"
            autoComplete="off"
            spellCheck={false}
            aria-describedby={`${id}-hint`}
            onChange={(e) => {
              token.current = e.target.value.trim();
            }}
          />
          <p className="hint" id={`${id}-hint`}>
            “Try it out” sends it as <code>Authorization: Bearer</code> to this site’s public API,
            and nowhere else. It stays on this page: leaving or reloading forgets it.
          </p>
        </div>
      </section>
      <section className="panel api-reference" aria-label="Operations">
        <Suspense fallback={<Spinner label="Loading the API reference" />}>
          <SwaggerReference url={PUBLIC_OPENAPI_PATH} token={readToken} />
        </Suspense>
      </section>
    </div>
  );
}
