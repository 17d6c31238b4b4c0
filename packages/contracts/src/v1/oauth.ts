import Type, { type Static } from 'typebox';

/** Audience of OAuth access tokens (RFC 9068): accepted on `/public/v1` only, never on `/api/v1`. */
export const PUBLIC_API_AUDIENCE = 'neon-public-api';
/** Authorization codes live this long and work once. */
export const OAUTH_CODE_TTL_SECONDS = 60;

/** Every scope an application may ask for, with the words the consent screen shows. */
export const OAUTH_SCOPES = {
  'user:read:email': 'See your email address',
  'channel:read:stream_key': 'See your stream key (anyone with it can stream as you)',
  'channel:manage:broadcast': "Change your channel's title, category and tags, and delete videos",
  'channel:read:followers': 'See who follows your channel',
  'moderator:manage:chat': 'Delete messages, time out and ban users in chats you moderate',
  'user:write:chat': 'Send chat messages as you',
  'channel:read:subscriptions': "See your channel's subscribers",
} as const;
export type OAuthScope = keyof typeof OAUTH_SCOPES;
export const OAUTH_SCOPE_NAMES = Object.keys(OAUTH_SCOPES) as OAuthScope[];

export function isOAuthScope(value: string): value is OAuthScope {
  return Object.prototype.hasOwnProperty.call(OAUTH_SCOPES, value);
}

/** The gateway passes these for an OAuth access token on `/public/v1`. */
export const OAuthHeaders = {
  /** The application's client id. */
  app: 'x-client-app',
  /** The token's scopes, space-separated (empty for an app token). */
  scopes: 'x-client-scopes',
} as const;

/**
 * Redirect URIs are compared as exact strings. `https`, or `http` to a
 * loopback host (native and development apps, RFC 8252 §7.3); no fragment,
 * no user info.
 */
export const RedirectUri = Type.String({ minLength: 8, maxLength: 512 });

export const ClientType = Type.Union([Type.Literal('confidential'), Type.Literal('public')]);
export type ClientType = Static<typeof ClientType>;

export const CreateOAuthAppRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 60 }),
    redirectUris: Type.Array(RedirectUri, { minItems: 1, maxItems: 10 }),
    type: ClientType,
  },
  { additionalProperties: false },
);
export type CreateOAuthAppRequest = Static<typeof CreateOAuthAppRequest>;

export const UpdateOAuthAppRequest = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
    redirectUris: Type.Optional(Type.Array(RedirectUri, { minItems: 1, maxItems: 10 })),
  },
  { additionalProperties: false },
);
export type UpdateOAuthAppRequest = Static<typeof UpdateOAuthAppRequest>;

export const OAuthApp = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  redirectUris: Type.Array(Type.String()),
  type: ClientType,
  createdAt: Type.String(),
  secretRotatedAt: Type.Union([Type.String(), Type.Null()]),
});
export type OAuthApp = Static<typeof OAuthApp>;

/** Answer to create and rotate: the secret appears here once and is never shown again. */
export const OAuthAppWithSecret = Type.Object({
  ...OAuthApp.properties,
  clientSecret: Type.Union([Type.String(), Type.Null()]),
});
export type OAuthAppWithSecret = Static<typeof OAuthAppWithSecret>;

export const OAuthAppList = Type.Object({ items: Type.Array(OAuthApp) });
export type OAuthAppList = Static<typeof OAuthAppList>;

export const ClientIdParams = Type.Object({
  clientId: Type.String({ minLength: 1, maxLength: 64 }),
});
export type ClientIdParams = Static<typeof ClientIdParams>;

/** What the consent screen sends (and asks about first): the authorization request, as the app sent it. */
export const AuthorizeRequest = Type.Object(
  {
    response_type: Type.String({ maxLength: 64 }),
    client_id: Type.String({ maxLength: 64 }),
    redirect_uri: Type.String({ maxLength: 512 }),
    scope: Type.Optional(Type.String({ maxLength: 1024 })),
    state: Type.Optional(Type.String({ maxLength: 1024 })),
    code_challenge: Type.Optional(Type.String({ maxLength: 256 })),
    code_challenge_method: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: true },
);
export type AuthorizeRequest = Static<typeof AuthorizeRequest>;

export const ConsentRequest = Type.Object(
  { ...AuthorizeRequest.properties, allowed: Type.Boolean() },
  { additionalProperties: false },
);
export type ConsentRequest = Static<typeof ConsentRequest>;

/** The consent screen's facts, once the request is known to be well formed. */
export const AuthorizePreview = Type.Object({
  clientId: Type.String(),
  appName: Type.String(),
  redirectUri: Type.String(),
  scopes: Type.Array(Type.Object({ name: Type.String(), description: Type.String() })),
});
export type AuthorizePreview = Static<typeof AuthorizePreview>;

/** Where the browser goes next: the app's redirect URI with `code` (or `error`) and `state`. */
export const AuthorizeRedirect = Type.Object({ redirectTo: Type.String() });
export type AuthorizeRedirect = Static<typeof AuthorizeRedirect>;

export const ConnectedApp = Type.Object({
  grantId: Type.String(),
  clientId: Type.String(),
  appName: Type.String(),
  scopes: Type.Array(Type.String()),
  authorizedAt: Type.String(),
});
export type ConnectedApp = Static<typeof ConnectedApp>;
export const ConnectedAppList = Type.Object({ items: Type.Array(ConnectedApp) });
export type ConnectedAppList = Static<typeof ConnectedAppList>;
export const GrantIdParams = Type.Object({ grantId: Type.String({ format: 'uuid' }) });
export type GrantIdParams = Static<typeof GrantIdParams>;

/** RFC 6749 §5.1 token response. */
export interface OAuthTokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope: string;
}
