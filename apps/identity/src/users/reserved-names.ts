import { routeTable } from '@neon/contracts';

/**
 * Names that would let an account pass for the platform or its staff, or
 * that a page of the web app already lives at (`/dashboard` must never be a
 * channel).
 */
const AUTHORITY = [
  'admin',
  'administrator',
  'moderator',
  'mod',
  'system',
  'root',
  'neon',
  'staff',
  'support',
  'official',
  'help',
  'security',
  'everyone',
  'here',
  'null',
  'undefined',
  'api',
  'www',
  'mail',
];

/**
 * Every top-level path of the web app (apps/web/src/App.tsx; a test keeps
 * the two in step), what its build serves at the top level, and paths it is
 * likely to grow, so a page added later does not collide with a channel.
 */
const WEB_ROUTES = [
  'login',
  'logout',
  'signup',
  'signin',
  'register',
  'dashboard',
  'admin',
  'videos',
  'assets',
  'static',
  'favicon',
  'robots',
  'index',
  'settings',
  'account',
  'profile',
  'search',
  'browse',
  'following',
  'directory',
  'about',
  'terms',
  'privacy',
  'developers',
  'oauth',
];

/** The first segment of every public path the gateway routes (`/hls/…` is `hls`). */
function gatewaySegments(): string[] {
  return routeTable.map(([prefix]) => prefix.split('/')[1]!.replace(/^\./, ''));
}

const DIGIT_AS_LETTER: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '8': 'b',
  // `l` and `i` pass for each other (and for `1`) in most fonts.
  l: 'i',
};

/**
 * What a name looks like to a reader: case, separators, digits that pass as
 * letters and doubled letters do not change it (`Adm1n`, `s_u_p_p_o_r_t`
 * and `r00t` fold to the same as `admin`, `support` and `root`).
 */
export function foldUsername(name: string): string {
  const mapped = name
    .toLowerCase()
    .replace(/[_\-.\s]/g, '')
    .replace(/[0134578l]/g, (c) => DIGIT_AS_LETTER[c]!);
  return mapped.replace(/(.)\1+/g, '$1');
}

const RESERVED = new Set(
  [...AUTHORITY, ...WEB_ROUTES, ...gatewaySegments()].map(foldUsername).filter((f) => f !== ''),
);

/**
 * Whether a name is, or passes for, a reserved one. A number or separator
 * before or after it does not make it another name (`admin_1`, `2staff`).
 */
export function isReservedUsername(name: string): boolean {
  if (RESERVED.has(foldUsername(name))) return true;
  const core = name.replace(/^[\d_-]+|[\d_-]+$/g, '');
  return core !== '' && RESERVED.has(foldUsername(core));
}
