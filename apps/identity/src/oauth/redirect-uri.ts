/** Hosts a plain-http redirect URI may name (RFC 8252 §7.3: native and development apps). */
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Why a redirect URI cannot be registered, or null when it can. Registered
 * URIs are later compared as exact strings (RFC 9700 §4.1.3), so only their
 * form is checked here: `https`, or `http` to a loopback host; no fragment
 * (RFC 6749 §3.1.2), no user info, no wildcard.
 */
export function redirectUriProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be https';
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname))
    return 'must be https (plain http only to 127.0.0.1, [::1] or localhost)';
  if (value.includes('#')) return 'must not have a fragment';
  if (url.username !== '' || url.password !== '') return 'must not carry user info';
  if (value.includes('*')) return 'must not contain a wildcard';
  // The string is what gets compared: it must be the one the URL parser reads back.
  if (url.href !== value && url.href !== `${value}/`) return 'is not in normal form';
  if (/[\s<>"\\^`{|}]/.test(value)) return 'has characters that must be escaped';
  return null;
}

/** The scopes of a space-separated `scope` parameter, each once, in the order given. */
export function parseScope(value: string | undefined): string[] {
  if (value === undefined) return [];
  return [...new Set(value.split(' ').filter((s) => s !== ''))];
}
