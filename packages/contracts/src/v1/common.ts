import Type, { type Static } from 'typebox';

/** UUIDv7 (time-ordered) identifiers are used for every entity. */
export const Uuid = Type.String({ format: 'uuid' });
export type Uuid = Static<typeof Uuid>;

export const IsoDateTime = Type.String({ format: 'date-time' });

/** Usernames name channels too: lower-case, immutable. */
export const Username = Type.String({ minLength: 3, maxLength: 25, pattern: '^[a-z0-9_]+$' });
export type Username = Static<typeof Username>;

/** The one rule for a username, and so for a channel name, where code tests a string. */
const USERNAME = /^[a-z0-9_]{3,25}$/;
export const isUsername = (name: string): boolean => USERNAME.test(name);

/** A username in a path: a link may carry any case; it is lower-cased before it is looked up. */
export const UsernameParam = Type.String({
  minLength: 3,
  maxLength: 25,
  pattern: '^[A-Za-z0-9_]+$',
});

/** RFC 9457 problem details, as every service renders its errors. */
export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.Optional(Type.String()),
  code: Type.String(),
  requestId: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
});
export type Problem = Static<typeof Problem>;

export const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  service: Type.String(),
  checks: Type.Optional(Type.Record(Type.String(), Type.String())),
});
export type Health = Static<typeof Health>;

/** The headers the gateway sets for a verified caller; services read no other identity. */
export const ClientHeaders = {
  id: 'x-client-id',
  username: 'x-client-username',
  roles: 'x-client-roles',
  /** The session (refresh family) the caller's access token or socket ticket belongs to. */
  session: 'x-client-session',
  /** The client's address as the gateway determined it (for every request, signed in or not). */
  ip: 'x-client-ip',
  /**
   * Present only when the caller's account has a second factor: when this
   * session last checked it (seconds since the epoch, 0 = not yet).
   */
  stepUp: 'x-client-step-up',
  internalToken: 'x-neon-internal',
} as const;

export type Role = 'user' | 'admin';
