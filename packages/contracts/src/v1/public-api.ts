import Type, { type Static, type TSchema } from 'typebox';
import {
  CategoryRef,
  CategorySlug,
  ChannelLanguage,
  ChannelTag,
  CHANNEL_MAX_TAGS,
} from './channels.js';
import { CHAT_MAX_BODY, CHAT_MAX_REASON, CHAT_MAX_TIMEOUT_SECONDS } from './chat.js';
import { Problem, Uuid } from './common.js';
import { UpdateStreamRequest } from './live.js';
import { OAUTH_SCOPES, type OAuthScope } from './oauth.js';

/**
 * `/public/v1`: the API third-party applications call with OAuth access
 * tokens. Every operation is declared once here: the services register their
 * routes from these declarations and `/public/v1/openapi.json` is built from
 * them, so the document cannot drift from what is served.
 */

/** Most ids one list call takes. */
export const PUBLIC_MAX_IDS = 100;
/** Largest page a list hands out. */
export const PUBLIC_MAX_PAGE = 100;
export const PUBLIC_DEFAULT_PAGE = 20;

const Login = Type.String({ minLength: 3, maxLength: 25, pattern: '^[A-Za-z0-9_]+$' });
const Ids = Type.Array(Uuid, { maxItems: PUBLIC_MAX_IDS });
const Logins = Type.Array(Login, { maxItems: PUBLIC_MAX_IDS });
const First = Type.Integer({ minimum: 1, maximum: PUBLIC_MAX_PAGE, default: PUBLIC_DEFAULT_PAGE });
const After = Type.String({ minLength: 1, maxLength: 256 });

export const Pagination = Type.Object({
  /** Pass as `after` for the next page; null on the last one. */
  cursor: Type.Union([Type.String(), Type.Null()]),
});

function dataOf<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item) });
}
function pageOf<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), pagination: Pagination });
}

// ---- resources ----

export const PublicUser = Type.Object({
  id: Type.String(),
  login: Type.String(),
  displayName: Type.String(),
  description: Type.String(),
  avatarUrl: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  /** Only the token's own user, and only with `user:read:email`. */
  email: Type.Optional(Type.String()),
});
export type PublicUser = Static<typeof PublicUser>;

export const PublicChannel = Type.Object({
  broadcasterId: Type.String(),
  login: Type.String(),
  displayName: Type.String(),
  title: Type.String(),
  category: Type.Union([CategoryRef, Type.Null()]),
  tags: Type.Array(Type.String()),
  language: Type.String(),
  mature: Type.Boolean(),
  followers: Type.Integer({ minimum: 0 }),
  live: Type.Boolean(),
});
export type PublicChannel = Static<typeof PublicChannel>;

export const PublicStream = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  login: Type.String(),
  displayName: Type.String(),
  title: Type.String(),
  category: Type.Union([CategoryRef, Type.Null()]),
  tags: Type.Array(Type.String()),
  viewers: Type.Integer({ minimum: 0 }),
  startedAt: Type.String(),
  thumbnailUrl: Type.Union([Type.String(), Type.Null()]),
  hlsUrl: Type.String(),
});
export type PublicStream = Static<typeof PublicStream>;

export const PublicFollower = Type.Object({
  userId: Type.String(),
  login: Type.String(),
  displayName: Type.String(),
  followedAt: Type.String(),
});
export type PublicFollower = Static<typeof PublicFollower>;

export const PublicVideo = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  login: Type.String(),
  title: Type.String(),
  startedAt: Type.String(),
  durationSeconds: Type.Number(),
  thumbnailUrl: Type.Union([Type.String(), Type.Null()]),
  playlistUrl: Type.String(),
});
export type PublicVideo = Static<typeof PublicVideo>;

export const PublicStreamKey = Type.Object({ streamKey: Type.String(), rtmpUrl: Type.String() });
export type PublicStreamKey = Static<typeof PublicStreamKey>;

export const PublicChatMessage = Type.Object({ id: Type.String() });
export type PublicChatMessage = Static<typeof PublicChatMessage>;

// ---- requests ----

export const PublicUsersQuery = Type.Object(
  { id: Type.Optional(Ids), login: Type.Optional(Logins) },
  { additionalProperties: false },
);
export type PublicUsersQuery = Static<typeof PublicUsersQuery>;

export const PublicChannelsQuery = Type.Object(
  { broadcasterId: Type.Optional(Ids), login: Type.Optional(Logins) },
  { additionalProperties: false },
);
export type PublicChannelsQuery = Static<typeof PublicChannelsQuery>;

export const PublicUpdateChannel = Type.Object(
  {
    category: Type.Optional(Type.Union([CategorySlug, Type.Null()])),
    tags: Type.Optional(Type.Array(ChannelTag, { maxItems: CHANNEL_MAX_TAGS })),
    language: Type.Optional(ChannelLanguage),
    mature: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PublicUpdateChannel = Static<typeof PublicUpdateChannel>;

export const PublicStreamsQuery = Type.Object(
  {
    userId: Type.Optional(Ids),
    login: Type.Optional(Logins),
    category: Type.Optional(CategorySlug),
    first: Type.Optional(First),
    after: Type.Optional(After),
  },
  { additionalProperties: false },
);
export type PublicStreamsQuery = Static<typeof PublicStreamsQuery>;

export const PublicFollowersQuery = Type.Object(
  { broadcasterId: Uuid, first: Type.Optional(First), after: Type.Optional(After) },
  { additionalProperties: false },
);
export type PublicFollowersQuery = Static<typeof PublicFollowersQuery>;

export const PublicVideosQuery = Type.Object(
  { userId: Uuid, first: Type.Optional(First), after: Type.Optional(After) },
  { additionalProperties: false },
);
export type PublicVideosQuery = Static<typeof PublicVideosQuery>;

export const PublicVideoParams = Type.Object({ id: Uuid });
export type PublicVideoParams = Static<typeof PublicVideoParams>;

export const PublicSendChatMessage = Type.Object(
  {
    broadcasterId: Uuid,
    message: Type.String({ minLength: 1, maxLength: CHAT_MAX_BODY }),
  },
  { additionalProperties: false },
);
export type PublicSendChatMessage = Static<typeof PublicSendChatMessage>;

export const PublicDeleteChatMessageQuery = Type.Object(
  { broadcasterId: Uuid, messageId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
export type PublicDeleteChatMessageQuery = Static<typeof PublicDeleteChatMessageQuery>;

export const PublicBanRequest = Type.Object(
  {
    broadcasterId: Uuid,
    userId: Uuid,
    /** Seconds of a timeout; absent for a ban without end. */
    duration: Type.Optional(Type.Integer({ minimum: 1, maximum: CHAT_MAX_TIMEOUT_SECONDS })),
    reason: Type.Optional(Type.String({ maxLength: CHAT_MAX_REASON })),
  },
  { additionalProperties: false },
);
export type PublicBanRequest = Static<typeof PublicBanRequest>;

export const PublicUnbanQuery = Type.Object(
  { broadcasterId: Uuid, userId: Uuid },
  { additionalProperties: false },
);
export type PublicUnbanQuery = Static<typeof PublicUnbanQuery>;

// ---- EventSub (webhooks) ----

/** What an application may subscribe to. */
export const EVENTSUB_TYPES = [
  'stream.online',
  'stream.offline',
  'channel.update',
  'channel.follow',
] as const;
export type EventSubType = (typeof EVENTSUB_TYPES)[number];
export const EventSubType = Type.Union([
  Type.Literal('stream.online'),
  Type.Literal('stream.offline'),
  Type.Literal('channel.update'),
  Type.Literal('channel.follow'),
]);

/**
 * Where a subscription stands: waiting for its callback to echo the
 * challenge, sending, or stopped (the challenge failed, the callback failed
 * for too long, or the user whose token made it lost the right to see it).
 */
export const EVENTSUB_STATUSES = [
  'webhook_callback_verification_pending',
  'enabled',
  'webhook_callback_verification_failed',
  'notification_failures_exceeded',
  'authorization_revoked',
] as const;
export type EventSubStatus = (typeof EVENTSUB_STATUSES)[number];
export const EventSubStatus = Type.Union([
  Type.Literal('webhook_callback_verification_pending'),
  Type.Literal('enabled'),
  Type.Literal('webhook_callback_verification_failed'),
  Type.Literal('notification_failures_exceeded'),
  Type.Literal('authorization_revoked'),
]);

/** Longest callback URL taken. */
export const EVENTSUB_CALLBACK_MAX = 2048;
/** Subscriptions one application may hold unless the deployment says otherwise. */
export const EVENTSUB_DEFAULT_MAX_SUBSCRIPTIONS = 1000;

export const EventSubCondition = Type.Object(
  { broadcasterUserId: Uuid },
  { additionalProperties: false },
);
export type EventSubCondition = Static<typeof EventSubCondition>;

/** A subscription as the API shows it: never its secret. */
export const EventSubSubscription = Type.Object({
  id: Type.String(),
  status: EventSubStatus,
  type: EventSubType,
  version: Type.String(),
  condition: EventSubCondition,
  transport: Type.Object({ method: Type.Literal('webhook'), callback: Type.String() }),
  createdAt: Type.String(),
});
export type EventSubSubscription = Static<typeof EventSubSubscription>;

export const PublicCreateEventSubSubscription = Type.Object(
  {
    type: EventSubType,
    version: Type.Literal('1'),
    condition: EventSubCondition,
    transport: Type.Object(
      {
        method: Type.Literal('webhook'),
        /** `https` (or `http` to loopback where the deployment allows it for development). */
        callback: Type.String({ minLength: 1, maxLength: EVENTSUB_CALLBACK_MAX }),
        /** The HMAC key the messages are signed with: 10 to 100 printable ASCII characters. */
        secret: Type.String({ minLength: 10, maxLength: 100, pattern: '^[\\x20-\\x7E]+$' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type PublicCreateEventSubSubscription = Static<typeof PublicCreateEventSubSubscription>;

export const PublicEventSubListQuery = Type.Object(
  {
    status: Type.Optional(EventSubStatus),
    type: Type.Optional(EventSubType),
    first: Type.Optional(First),
    after: Type.Optional(After),
  },
  { additionalProperties: false },
);
export type PublicEventSubListQuery = Static<typeof PublicEventSubListQuery>;

export const PublicEventSubDeleteQuery = Type.Object({ id: Uuid }, { additionalProperties: false });
export type PublicEventSubDeleteQuery = Static<typeof PublicEventSubDeleteQuery>;

const Broadcaster = {
  broadcasterUserId: Type.String(),
  broadcasterUserLogin: Type.String(),
  broadcasterUserName: Type.String(),
};

/** The `event` of a notification, by subscription type. */
export const EventSubEvents = {
  'stream.online': Type.Object({
    /** The broadcast's id. */
    id: Type.String(),
    ...Broadcaster,
    type: Type.Literal('live'),
    startedAt: Type.String(),
  }),
  'stream.offline': Type.Object({ ...Broadcaster }),
  'channel.update': Type.Object({
    ...Broadcaster,
    title: Type.String(),
    language: Type.String(),
    category: Type.Union([CategoryRef, Type.Null()]),
    tags: Type.Array(Type.String()),
    mature: Type.Boolean(),
  }),
  'channel.follow': Type.Object({
    userId: Type.String(),
    userLogin: Type.String(),
    userName: Type.String(),
    ...Broadcaster,
    followedAt: Type.String(),
  }),
} as const satisfies Record<EventSubType, TSchema>;
export type EventSubEvent<T extends EventSubType> = Static<(typeof EventSubEvents)[T]>;

/** The three kinds of message a callback receives (`Neon-Eventsub-Message-Type`). */
export type EventSubMessageType = 'webhook_callback_verification' | 'notification' | 'revocation';

/** The headers of every message sent to a callback (Twitch's scheme, under our name). */
export const EventSubHeaders = {
  /** The message's id: the same on every retry of it; deduplicate on it. */
  id: 'Neon-Eventsub-Message-Id',
  /** When this attempt was sent (RFC 3339); a retry carries its own. */
  timestamp: 'Neon-Eventsub-Message-Timestamp',
  type: 'Neon-Eventsub-Message-Type',
  subscriptionType: 'Neon-Eventsub-Subscription-Type',
  subscriptionVersion: 'Neon-Eventsub-Subscription-Version',
  /** `sha256=` + hex HMAC-SHA256(secret, id + timestamp + body). */
  signature: 'Neon-Eventsub-Message-Signature',
} as const;

// ---- operations ----

/**
 * Who may call: `any` token (an app's own, or one acting for a user), only a
 * `user` token, and the scope that token must carry. `openScope` names a
 * scope that widens the answer without being required (email on users).
 */
export interface PublicOperation {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** As Fastify writes it: `:id` for a path parameter. */
  path: `/public/v1/${string}`;
  operationId: string;
  summary: string;
  tag: string;
  token: 'any' | 'user';
  scope: OAuthScope | null;
  openScope?: OAuthScope;
  querystring?: TSchema;
  params?: TSchema;
  body?: TSchema;
  /** The success status and its body (null: no body). */
  status: 200 | 201 | 202 | 204;
  response: TSchema | null;
  /** Error statuses of this operation besides those every operation may answer. */
  errors?: Record<string, string>;
}

const op = <const O extends PublicOperation>(o: O): O => o;

export const publicApi = {
  getUsers: op({
    method: 'GET',
    path: '/public/v1/users',
    operationId: 'getUsers',
    summary:
      'Users by id or login (up to 100 of each); with neither, the token’s user. The email is included for the token’s own user when it carries user:read:email.',
    tag: 'Users',
    token: 'any',
    scope: null,
    openScope: 'user:read:email',
    querystring: PublicUsersQuery,
    status: 200,
    response: dataOf(PublicUser),
  }),
  getChannels: op({
    method: 'GET',
    path: '/public/v1/channels',
    operationId: 'getChannels',
    summary: 'Channels by broadcaster id or login (up to 100 of each).',
    tag: 'Channels',
    token: 'any',
    scope: null,
    querystring: PublicChannelsQuery,
    status: 200,
    response: dataOf(PublicChannel),
  }),
  modifyChannel: op({
    method: 'PATCH',
    path: '/public/v1/channels',
    operationId: 'modifyChannel',
    summary: 'Changes the token user’s channel: category, tags, language, mature.',
    tag: 'Channels',
    token: 'user',
    scope: 'channel:manage:broadcast',
    body: PublicUpdateChannel,
    status: 200,
    response: dataOf(PublicChannel),
  }),
  getFollowers: op({
    method: 'GET',
    path: '/public/v1/channels/followers',
    operationId: 'getFollowers',
    summary: 'Who follows the token user’s channel, newest first.',
    tag: 'Channels',
    token: 'user',
    scope: 'channel:read:followers',
    querystring: PublicFollowersQuery,
    status: 200,
    response: Type.Object({
      data: Type.Array(PublicFollower),
      total: Type.Integer({ minimum: 0 }),
      pagination: Pagination,
    }),
  }),
  getStreams: op({
    method: 'GET',
    path: '/public/v1/streams',
    operationId: 'getStreams',
    summary: 'Channels live now, most watched first; filter by user id, login or category.',
    tag: 'Streams',
    token: 'any',
    scope: null,
    querystring: PublicStreamsQuery,
    status: 200,
    response: pageOf(PublicStream),
  }),
  getStreamKey: op({
    method: 'GET',
    path: '/public/v1/streams/key',
    operationId: 'getStreamKey',
    summary: 'The token user’s stream key and ingest address.',
    tag: 'Streams',
    token: 'user',
    scope: 'channel:read:stream_key',
    status: 200,
    response: dataOf(PublicStreamKey),
  }),
  updateStreamTitle: op({
    method: 'PATCH',
    path: '/public/v1/streams/title',
    operationId: 'updateStreamTitle',
    summary:
      'Sets the token user’s stream title: the live broadcast’s now (viewers see it at once), and the next one’s.',
    tag: 'Streams',
    token: 'user',
    scope: 'channel:manage:broadcast',
    body: UpdateStreamRequest,
    status: 204,
    response: null,
  }),
  getVideos: op({
    method: 'GET',
    path: '/public/v1/videos',
    operationId: 'getVideos',
    summary: 'A channel’s past broadcasts, newest first.',
    tag: 'Videos',
    token: 'any',
    scope: null,
    querystring: PublicVideosQuery,
    status: 200,
    response: pageOf(PublicVideo),
  }),
  deleteVideo: op({
    method: 'DELETE',
    path: '/public/v1/videos/:id',
    operationId: 'deleteVideo',
    summary: 'Deletes one of the token user’s past broadcasts.',
    tag: 'Videos',
    token: 'user',
    scope: 'channel:manage:broadcast',
    params: PublicVideoParams,
    status: 204,
    response: null,
  }),
  sendChatMessage: op({
    method: 'POST',
    path: '/public/v1/chat/messages',
    operationId: 'sendChatMessage',
    summary: 'Sends a chat message as the token user, under the room’s rules like any chatter.',
    tag: 'Chat',
    token: 'user',
    scope: 'user:write:chat',
    body: PublicSendChatMessage,
    status: 201,
    response: dataOf(PublicChatMessage),
  }),
  deleteChatMessage: op({
    method: 'DELETE',
    path: '/public/v1/moderation/chat',
    operationId: 'deleteChatMessage',
    summary: 'Deletes a message in a room the token user moderates.',
    tag: 'Moderation',
    token: 'user',
    scope: 'moderator:manage:chat',
    querystring: PublicDeleteChatMessageQuery,
    status: 204,
    response: null,
  }),
  banUser: op({
    method: 'POST',
    path: '/public/v1/moderation/bans',
    operationId: 'banUser',
    summary: 'Bans a user from a room the token user moderates, or times them out with `duration`.',
    tag: 'Moderation',
    token: 'user',
    scope: 'moderator:manage:chat',
    body: PublicBanRequest,
    status: 204,
    response: null,
  }),
  unbanUser: op({
    method: 'DELETE',
    path: '/public/v1/moderation/bans',
    operationId: 'unbanUser',
    summary: 'Lifts a ban or timeout in a room the token user moderates.',
    tag: 'Moderation',
    token: 'user',
    scope: 'moderator:manage:chat',
    querystring: PublicUnbanQuery,
    status: 204,
    response: null,
  }),
  createEventSubSubscription: op({
    method: 'POST',
    path: '/public/v1/eventsub/subscriptions',
    operationId: 'createEventSubSubscription',
    summary:
      'Subscribes the app to events of a channel, delivered to its webhook callback once the callback echoes the challenge. stream.online, stream.offline and channel.update take any token; channel.follow needs a user token of the broadcaster or one of its moderators carrying channel:read:followers.',
    tag: 'EventSub',
    token: 'any',
    scope: null,
    body: PublicCreateEventSubSubscription,
    status: 202,
    response: dataOf(EventSubSubscription),
    errors: {
      '409': 'The app holds this subscription already, or as many as it may (`code` tells which).',
    },
  }),
  getEventSubSubscriptions: op({
    method: 'GET',
    path: '/public/v1/eventsub/subscriptions',
    operationId: 'getEventSubSubscriptions',
    summary:
      'The app’s own subscriptions with their status, oldest first; filter by status or type.',
    tag: 'EventSub',
    token: 'any',
    scope: null,
    querystring: PublicEventSubListQuery,
    status: 200,
    response: Type.Object({
      data: Type.Array(EventSubSubscription),
      /** Every subscription the app holds, whatever the filter. */
      total: Type.Integer({ minimum: 0 }),
      /** The most it may hold. */
      maxTotal: Type.Integer({ minimum: 0 }),
      pagination: Pagination,
    }),
  }),
  deleteEventSubSubscription: op({
    method: 'DELETE',
    path: '/public/v1/eventsub/subscriptions',
    operationId: 'deleteEventSubSubscription',
    summary: 'Deletes one of the app’s subscriptions and drops its undelivered messages.',
    tag: 'EventSub',
    token: 'any',
    scope: null,
    querystring: PublicEventSubDeleteQuery,
    status: 204,
    response: null,
  }),
} as const satisfies Record<string, PublicOperation>;

export type PublicOperationName = keyof typeof publicApi;

/** The document itself; open to anyone. */
export const PUBLIC_OPENAPI_PATH = '/public/v1/openapi.json';

/** Error statuses every operation may answer, besides its own. */
const ERRORS: Record<string, string> = {
  '400': 'The request is malformed; `errors` names the fields.',
  '401': 'No OAuth access token, or it is expired or revoked.',
  '403': 'The token lacks the scope, is not a user token, or the user may not do this.',
  '404': 'Nothing with that id the token may see.',
  '429': 'Over the rate limit: see the RateLimit and Retry-After headers.',
};

type Json = Record<string, unknown>;

/** `/users/:id` → `/users/{id}`. */
const openApiPath = (path: string) => path.replace(/:([A-Za-z_]+)/g, '{$1}');

function parameters(schema: TSchema | undefined, where: 'query' | 'path'): Json[] {
  if (!schema) return [];
  const s = schema as unknown as { properties: Record<string, Json>; required?: string[] };
  return Object.entries(s.properties).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    ...(prop.type === 'array' ? { style: 'form', explode: true } : {}),
    schema: JSON.parse(JSON.stringify(prop)) as Json,
  }));
}

/** The OpenAPI 3.1 document of `/public/v1`, for an issuer (the deployment's public URL). */
export function publicOpenApi(issuer: string): Json {
  const paths: Record<string, Json> = {};
  for (const o of Object.values(publicApi) as PublicOperation[]) {
    const path = openApiPath(o.path.slice('/public/v1'.length));
    const scopes = o.scope ? [o.scope] : [];
    const flows = o.token === 'user' ? ['user'] : ['user', 'app'];
    const ok: Json =
      o.response === null
        ? { description: 'Done.' }
        : {
            description: 'Done.',
            content: { 'application/json': { schema: JSON.parse(JSON.stringify(o.response)) } },
          };
    paths[path] = {
      ...paths[path],
      [o.method.toLowerCase()]: {
        operationId: o.operationId,
        summary: o.summary,
        tags: [o.tag],
        security: flows.map((f) => ({ [f]: scopes })),
        parameters: [...parameters(o.params, 'path'), ...parameters(o.querystring, 'query')],
        ...(o.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: JSON.parse(JSON.stringify(o.body)) } },
              },
            }
          : {}),
        responses: {
          [String(o.status)]: ok,
          ...Object.fromEntries(
            Object.entries({ ...ERRORS, ...o.errors }).map(([status, description]) => [
              status,
              {
                description,
                content: {
                  'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
                },
              },
            ]),
          ),
        },
      },
    };
  }
  const scopes = Object.fromEntries(Object.entries(OAUTH_SCOPES));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Neon public API',
      version: '1',
      description:
        'Call with an OAuth 2.0 access token in `Authorization: Bearer`: a user token from the authorization code flow with PKCE, or an app token from client credentials. Errors are RFC 9457 problem details with a stable `code`.',
    },
    servers: [{ url: `${issuer}/public/v1` }],
    paths,
    components: {
      schemas: { Problem: JSON.parse(JSON.stringify(Problem)) as Json },
      securitySchemes: {
        user: {
          type: 'oauth2',
          description: 'A token acting for a user: authorization code with PKCE (S256).',
          flows: {
            authorizationCode: {
              authorizationUrl: `${issuer}/oauth/authorize`,
              tokenUrl: `${issuer}/oauth2/token`,
              refreshUrl: `${issuer}/oauth2/token`,
              scopes,
            },
          },
        },
        app: {
          type: 'oauth2',
          description: 'The application’s own token: client credentials.',
          flows: { clientCredentials: { tokenUrl: `${issuer}/oauth2/token`, scopes: {} } },
        },
      },
    },
  };
}
