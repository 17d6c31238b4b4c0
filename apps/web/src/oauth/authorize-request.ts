import { AuthorizeRequest, OAUTH_SCOPES, isOAuthScope, type ConsentRequest } from '@neon/contracts';

/** A scope in the words the consent screen uses; a name we do not know is shown as it is. */
export function scopeWords(name: string): string {
  return isOAuthScope(name) ? OAUTH_SCOPES[name] : name;
}

/** The parameters of an authorization request the server takes back with the user's answer. */
const FIELDS = Object.keys(AuthorizeRequest.properties) as (keyof AuthorizeRequest)[];

/**
 * The user's answer to an authorization request, from the query string the
 * app sent: the request's own parameters (the first of each, as the preview
 * read them) and nothing else, since the server refuses unknown fields.
 */
export function consentBody(search: string, allowed: boolean): ConsentRequest {
  const params = new URLSearchParams(search);
  const body: Record<string, string | boolean> = { allowed };
  for (const field of FIELDS) {
    const value = params.get(field);
    if (value !== null) body[field] = value;
  }
  return body as unknown as ConsentRequest;
}

/**
 * Why a request whose app and redirect URI are known good can still not be
 * granted, or null. These are the checks the server makes when the user
 * answers (the authorization code flow with PKCE S256 only, RFC 7636); the
 * consent screen makes them first so the user is not asked for something that
 * would fail.
 */
export function requestProblem(search: string): string | null {
  const params = new URLSearchParams(search);
  if (params.get('response_type') !== 'code')
    return 'The app asked for a kind of sign-in Neon does not offer (only response_type=code is supported).';
  const challenge = params.get('code_challenge');
  if (!challenge) return 'The app’s request has no PKCE code challenge, which Neon requires.';
  if (params.get('code_challenge_method') !== 'S256')
    return 'The app’s request must use the S256 code challenge method.';
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge))
    return 'The app’s code challenge is not a base64url SHA-256 (43 characters).';
  return null;
}
