import Type, { type Static } from 'typebox';

/** Access-token audience for the three HTTP surfaces. */
export const API_AUDIENCE = 'neon-api';
/** Socket tickets: 60 s, single use, only accepted on /socket/websocket. */
export const SOCKET_AUDIENCE = 'socket';
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const SOCKET_TICKET_TTL_SECONDS = 60;
/**
 * The refresh cookie over plain http (local development) and the path it is
 * scoped to there. Browsers refuse a `__Host-` cookie without `Secure`, and
 * `Secure` cookies are not kept over http, so the prefix comes with https.
 */
export const REFRESH_COOKIE = 'neon_refresh';
export const REFRESH_COOKIE_PATH = '/api/v1/auth';
/**
 * The refresh cookie when PUBLIC_URL is https: `Secure`, `Path=/`, no
 * `Domain`, so no other host (a sibling subdomain, a plain-http network
 * attacker) can set or overwrite it.
 */
export const REFRESH_COOKIE_SECURE = '__Host-neon_refresh';
/**
 * Sent by a client that reads the refresh cookie without an `Origin` header
 * (browsers always send one on POST). A page elsewhere cannot add it to a
 * request without a CORS preflight, which the gateway grants to PUBLIC_URL only.
 */
export const CSRF_HEADER = 'x-requested-with';
/**
 * A client that cannot keep cookies (a native app, a script) sends this
 * header with value `body` on login, register and refresh, and receives the
 * refresh token in the JSON body instead of the cookie.
 */
export const REFRESH_TRANSPORT_HEADER = 'x-refresh-token-transport';

/** Claims of an access token (RS256, `kid` in the header, `iss` = PUBLIC_URL). */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  exp: number;
  iat: number;
  jti: string;
  username: string;
  roles: ('user' | 'admin')[];
  /** The session (refresh family) it was issued for: ending the session refuses the token. */
  sid: string;
  /**
   * Only when the account has a second factor: when this session last
   * checked it (seconds since the epoch; 0 = not since sign-in).
   */
  sua?: number;
}

export const Password = Type.String({ minLength: 8, maxLength: 128 });
export const Email = Type.String({ format: 'email', maxLength: 254 });

/** Usernames may be typed in any case; the service stores them lower-cased. */
export const RegisterUsername = Type.String({
  minLength: 3,
  maxLength: 25,
  pattern: '^[A-Za-z0-9_]+$',
});

export const RegisterRequest = Type.Object(
  { username: RegisterUsername, email: Email, password: Password },
  { additionalProperties: false },
);
export type RegisterRequest = Static<typeof RegisterRequest>;

export const LoginRequest = Type.Object(
  {
    login: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export type LoginRequest = Static<typeof LoginRequest>;

/** Non-browser clients send the refresh token in the body; browsers rely on the cookie. */
export const RefreshRequest = Type.Object(
  { refreshToken: Type.Optional(Type.String({ maxLength: 512 })) },
  { additionalProperties: false },
);
export type RefreshRequest = Static<typeof RefreshRequest>;

export const PublicProfile = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  bio: Type.String(),
  avatarUrl: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});
export type PublicProfile = Static<typeof PublicProfile>;

export const RoleName = Type.Union([Type.Literal('user'), Type.Literal('admin')]);

export const Me = Type.Object({
  ...PublicProfile.properties,
  email: Type.String(),
  /** Whether the owner followed the verification link mailed to `email`. */
  emailVerified: Type.Boolean(),
  roles: Type.Array(RoleName),
});
export type Me = Static<typeof Me>;

export const TokenResponse = Type.Object({
  accessToken: Type.String(),
  expiresIn: Type.Integer(),
  /** Only for clients that asked for it in the body (not browsers). */
  refreshToken: Type.Optional(Type.String()),
  user: Me,
});
export type TokenResponse = Static<typeof TokenResponse>;

export const UpdateMeRequest = Type.Object(
  {
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    bio: Type.Optional(Type.String({ maxLength: 300 })),
    avatarUrl: Type.Optional(
      Type.Union([Type.String({ maxLength: 2048, pattern: '^https?://' }), Type.Null()]),
    ),
  },
  { additionalProperties: false },
);
export type UpdateMeRequest = Static<typeof UpdateMeRequest>;

export const ChangePasswordRequest = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 1024 }), newPassword: Password },
  { additionalProperties: false },
);
export type ChangePasswordRequest = Static<typeof ChangePasswordRequest>;

/** `POST /api/v1/me/email`: the address to move to, confirmed by the current password. */
export const ChangeEmailRequest = Type.Object(
  { email: Email, password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
export type ChangeEmailRequest = Static<typeof ChangeEmailRequest>;

export const SocketTicket = Type.Object({ token: Type.String(), expiresIn: Type.Integer() });
export type SocketTicket = Static<typeof SocketTicket>;

export const AdminUser = Type.Object({
  ...Me.properties,
  suspended: Type.Boolean(),
  suspendedAt: Type.Union([Type.String(), Type.Null()]),
  suspendedReason: Type.Union([Type.String(), Type.Null()]),
});
export type AdminUser = Static<typeof AdminUser>;

export const AdminUserList = Type.Object({
  items: Type.Array(AdminUser),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type AdminUserList = Static<typeof AdminUserList>;

export const AdminUserQuery = Type.Object(
  {
    /** Matches anywhere in the username or the email, case-insensitively; empty matches all. */
    q: Type.Optional(Type.String({ maxLength: 254 })),
    cursor: Type.Optional(Type.String({ format: 'uuid' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  },
  { additionalProperties: false },
);
export type AdminUserQuery = Static<typeof AdminUserQuery>;

export const UserIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export type UserIdParams = Static<typeof UserIdParams>;

export const UsernameParams = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }),
});
export type UsernameParams = Static<typeof UsernameParams>;

export const SuspendRequest = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);
export type SuspendRequest = Static<typeof SuspendRequest>;

export const AuditQuery = Type.Object(
  {
    targetId: Type.Optional(Type.String({ format: 'uuid' })),
    cursor: Type.Optional(Type.String({ format: 'uuid' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

/** Actions the audit log records. */
export type AuditAction =
  'admin.granted' | 'admin.revoked' | 'user.suspended' | 'user.unsuspended' | 'admin.created';

export const AuditEntry = Type.Object({
  id: Type.String(),
  /** Null when the action came from the command line. */
  actorId: Type.Union([Type.String(), Type.Null()]),
  actorUsername: Type.String(),
  action: Type.String(),
  targetId: Type.Union([Type.String(), Type.Null()]),
  targetUsername: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Record(Type.String(), Type.Unknown()),
  at: Type.String(),
});
export type AuditEntry = Static<typeof AuditEntry>;
export const AuditList = Type.Object({
  items: Type.Array(AuditEntry),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type AuditList = Static<typeof AuditList>;
