import { Link } from 'react-router';
import {
  OAUTH_CODE_TTL_SECONDS,
  OAUTH_SCOPES,
  OAUTH_SCOPE_NAMES,
  PUBLIC_OPENAPI_PATH,
} from '@neon/contracts';
import { useTitle } from '../hooks';
import { useSession } from '../store';

/**
 * `/developers/docs` (the authorization server metadata's
 * `service_documentation`): the endpoints, the authorization code flow with
 * PKCE as Neon runs it, and every scope with the words users are shown.
 */
export default function DeveloperDocs() {
  useTitle('OAuth for developers');
  const { user } = useSession();
  const origin = window.location.origin;
  const endpoints: [string, string][] = [
    ['Authorization', `${origin}/oauth/authorize`],
    ['Token', `${origin}/oauth2/token`],
    ['Revocation', `${origin}/oauth2/revoke`],
    ['Server metadata (RFC 8414)', `${origin}/.well-known/oauth-authorization-server`],
    ['Public API', `${origin}/public/v1/`],
    ['Public API reference (OpenAPI 3.1)', `${origin}${PUBLIC_OPENAPI_PATH}`],
  ];
  return (
    <div className="page narrow-wide developers">
      <div className="page-head">
        <h1>OAuth for developers</h1>
        <Link className="btn ghost" to="/developers">
          {user ? 'Developer console' : 'Log in to register an app'}
        </Link>
      </div>
      <section className="panel" aria-labelledby="endpoints-title">
        <h2 id="endpoints-title">Endpoints</h2>
        <dl className="endpoints">
          {endpoints.map(([name, url]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>
                <code>{url}</code>
              </dd>
            </div>
          ))}
        </dl>
        <p>
          Every operation of the public API, with its parameters, answers and scopes, and a way to
          try it with a token: the <Link to="/developers/reference">API reference</Link>.
        </p>
      </section>
      <section className="panel" aria-labelledby="flow-title">
        <h2 id="flow-title">Authorization code with PKCE</h2>
        <ol className="steps">
          <li>
            Register your application in the <Link to="/developers">developer console</Link> for a
            client ID, and a client secret if it is a confidential client.
          </li>
          <li>
            Send the user to the authorization endpoint with <code>response_type=code</code>,{' '}
            <code>client_id</code>, <code>redirect_uri</code> (exactly as registered),{' '}
            <code>scope</code> (names separated by spaces), <code>state</code>, and{' '}
            <code>code_challenge</code> (the base64url SHA-256 of a random{' '}
            <code>code_verifier</code>) with <code>code_challenge_method=S256</code>. PKCE is
            required of every client.
          </li>
          <li>
            The user sees your app’s name and what it asks for, and answers. Neon sends them to your
            redirect URI with <code>code</code> and your <code>state</code>, or with{' '}
            <code>error=access_denied</code> if they cancel.
          </li>
          <li>
            Within {OAUTH_CODE_TTL_SECONDS} seconds, post the code to the token endpoint as a form (
            <code>application/x-www-form-urlencoded</code>):{' '}
            <code>grant_type=authorization_code</code>, <code>code</code>, <code>redirect_uri</code>
            , <code>code_verifier</code>. A confidential client authenticates with HTTP Basic
            (client ID and secret) or <code>client_secret</code> in the form; a public client sends
            its <code>client_id</code> only. A code works once: a second use is refused and ends the
            tokens it gave.
          </li>
          <li>
            Call the public API with the <code>access_token</code> as a Bearer token. Renew it with{' '}
            <code>grant_type=refresh_token</code>: every refresh answers a new refresh token, and
            the old one must not be used again.
          </li>
        </ol>
        <p className="muted">
          A confidential client can also get a token for itself, acting for no user, with{' '}
          <code>grant_type=client_credentials</code>. Users can disconnect your app at any time in
          their settings; its tokens stop working at once.
        </p>
      </section>
      <section className="panel" aria-labelledby="scopes-title">
        <h2 id="scopes-title">Scopes</h2>
        <div className="table-wrap">
          <table className="cards-sm">
            <thead>
              <tr>
                <th scope="col">Scope</th>
                <th scope="col">What the user is told</th>
              </tr>
            </thead>
            <tbody>
              {OAUTH_SCOPE_NAMES.map((name) => (
                <tr key={name}>
                  <td data-label="Scope">
                    <code>{name}</code>
                  </td>
                  <td data-label="What the user is told">{OAUTH_SCOPES[name]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
