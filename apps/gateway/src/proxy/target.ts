/** A request target as the gateway routes, limits and forwards it. */
export interface Target {
  /** The normalised path: what routing, limits and the admin check look at. */
  path: string;
  /** The normalised path and the query as sent: what the upstream receives. */
  url: string;
}

/** Dot segments, encoded separators and backslashes: a path must mean what it says to the router. */
const AMBIGUOUS_PATH = /(^|\/)\.\.?(\/|$)|%2F|%5C|\\/;
const UNRESERVED = /[A-Za-z0-9._~-]/;
const HEX = '0123456789ABCDEF';

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * RFC 3986 §6.2.2 normalisation of a path: a percent-encoded unreserved
 * character is the character (`%6c` is `l`, as every router decodes it), the
 * hex of other escapes is upper case; a `%` without two hex digits after it
 * is refused (null).
 */
function normalizePath(path: string): string | null {
  let out = '';
  let from = 0;
  for (let at = path.indexOf('%'); at >= 0; at = path.indexOf('%', at + 3)) {
    const hi = hexValue(path.charCodeAt(at + 1));
    const lo = hexValue(path.charCodeAt(at + 2));
    if (hi < 0 || lo < 0) return null;
    const char = String.fromCharCode(hi * 16 + lo);
    out += path.slice(from, at) + (UNRESERVED.test(char) ? char : `%${HEX[hi]}${HEX[lo]}`);
    from = at + 3;
  }
  return from === 0 ? path : out + path.slice(from);
}

/**
 * The one path every routing and limiting decision is made on, and the one
 * the upstream receives. A service's router decodes what the gateway
 * matched against (`/api/v1/auth/%6cogin` is its login route), so the
 * gateway decodes the same characters first and forwards what it decided
 * on. What could still mean two things is refused: a fragment (never sent
 * by a browser; a router may cut the path there), a malformed escape, dot
 * segments, encoded separators and backslashes.
 *
 * The absolute form (`http://host/path`, RFC 9112 §3.2.2) is read as its
 * path. Returns the target, or why it is refused.
 */
export function readTarget(raw: string): Target | string {
  let target = raw;
  if (target.charCodeAt(0) !== 0x2f) {
    const absolute = /^https?:\/\/[^/?#]*/i.exec(target);
    if (!absolute) return 'The request target must be a path.';
    target = target.slice(absolute[0].length);
    if (target.charCodeAt(0) !== 0x2f) target = `/${target}`;
  }
  if (target.includes('#')) return 'A request target may not hold a fragment (#).';
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const path = rawPath.includes('%') ? normalizePath(rawPath) : rawPath;
  if (path === null) return 'A percent sign in the path must start an escape (%XX).';
  if (AMBIGUOUS_PATH.test(path))
    return 'Paths may not contain dot segments, encoded separators or backslashes.';
  if (path === target) return { path, url: target };
  return { path, url: q < 0 ? path : path + target.slice(q) };
}

/**
 * The key a path-bound limit is counted under: lower case, without matrix
 * parameters, repeated or trailing slashes. Wider than any router the
 * services run (theirs are case-sensitive and strict about slashes), so no
 * spelling a router might still take for a limited route escapes its limit.
 */
export function limitKey(path: string): string {
  return path
    .toLowerCase()
    .replace(/;[^/]*/g, '')
    .replace(/\/{2,}/g, '/')
    .replace(/(.)\/$/, '$1');
}
