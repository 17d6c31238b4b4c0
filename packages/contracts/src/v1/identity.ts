import Type, { type Static } from 'typebox';
import { Username } from './common.js';

/** Access-token audience for the three HTTP surfaces. */
export const API_AUDIENCE = 'neon-api';
/** Socket tickets: 60 s, single use, only accepted on /socket/websocket. */
export const SOCKET_AUDIENCE = 'socket';
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const SOCKET_TICKET_TTL_SECONDS = 60;
/** Refresh cookie name and the path it is scoped to. */
export const REFRESH_COOKIE = 'neon_refresh';
export const REFRESH_COOKIE_PATH = '/api/v1/auth';

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
}

export const Password = Type.String({ minLength: 8, maxLength: 128 });
export const Email = Type.String({ format: 'email', maxLength: 254 });

export const RegisterRequest = Type.Object(
  { username: Username, email: Email, password: Password },
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

export const Me = Type.Intersect([
  PublicProfile,
  Type.Object({
    email: Type.String(),
    roles: Type.Array(Type.Union([Type.Literal('user'), Type.Literal('admin')])),
  }),
]);
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

export const SocketTicket = Type.Object({ token: Type.String(), expiresIn: Type.Integer() });
export type SocketTicket = Static<typeof SocketTicket>;

export const AdminUser = Type.Intersect([Me, Type.Object({ suspended: Type.Boolean() })]);
export type AdminUser = Static<typeof AdminUser>;

export const AdminUserList = Type.Object({
  items: Type.Array(AdminUser),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type AdminUserList = Static<typeof AdminUserList>;

export const AuditEntry = Type.Object({
  id: Type.String(),
  actorId: Type.String(),
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
