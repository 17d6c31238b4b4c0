import Type, { type Static } from 'typebox';

/** HTTP bodies of the channels service (v1). */

export const CHANNEL_MAX_TAGS = 10;
export const CHANNEL_MAX_LINKS = 5;
export const CHANNEL_MAX_ABOUT = 1000;
/** A page of follows or followers holds at most this many. */
export const CHANNELS_PAGE_LIMIT = 100;
/** Search answers at most this many channels and this many categories. */
export const SEARCH_LIMIT = 20;

export const CategorySlug = Type.String({
  minLength: 1,
  maxLength: 60,
  pattern: '^[a-z0-9]+(-[a-z0-9]+)*$',
});
/** Letters, digits and dashes; compared and stored lower-cased. */
export const ChannelTag = Type.String({ minLength: 1, maxLength: 25, pattern: '^[A-Za-z0-9-]+$' });
/** An https link shown on the channel's About panel. */
export const ChannelLink = Type.String({ maxLength: 300, pattern: '^https://[^\\s/?#]+[^\\s]*$' });
/** ISO 639-1, optionally with a region: `en`, `pt-BR`. */
export const ChannelLanguage = Type.String({ pattern: '^[a-z]{2}(-[A-Z]{2})?$' });

export const CategoryRef = Type.Object({ slug: Type.String(), name: Type.String() });
export type CategoryRef = Static<typeof CategoryRef>;

/** A category as the directory lists it, with what is live in it now. */
export const Category = Type.Object({
  slug: Type.String(),
  name: Type.String(),
  liveChannels: Type.Integer({ minimum: 0 }),
  viewers: Type.Integer({ minimum: 0 }),
});
export type Category = Static<typeof Category>;

export const CategoryList = Type.Object({ items: Type.Array(Category) });
export type CategoryList = Static<typeof CategoryList>;

/**
 * A category as admins manage it (`/admin/v1/categories`). A retired one is
 * hidden from the directory, search and the category picker; channels that
 * had it keep showing it until their owner picks another.
 */
export const AdminCategory = Type.Object({
  slug: Type.String(),
  name: Type.String(),
  retired: Type.Boolean(),
  /** Channels whose category it is. */
  channels: Type.Integer({ minimum: 0 }),
});
export type AdminCategory = Static<typeof AdminCategory>;
export const AdminCategoryList = Type.Object({ items: Type.Array(AdminCategory) });
export type AdminCategoryList = Static<typeof AdminCategoryList>;

export const CategoryName = Type.String({ minLength: 1, maxLength: 80, pattern: '\\S' });
/** `POST /admin/v1/categories`: the slug defaults to one made from the name. */
export const CreateCategoryRequest = Type.Object(
  { name: CategoryName, slug: Type.Optional(CategorySlug) },
  { additionalProperties: false },
);
export type CreateCategoryRequest = Static<typeof CreateCategoryRequest>;
/** `PATCH /admin/v1/categories/:slug`: rename, retire (`retired: true`) or bring back. */
export const UpdateCategoryRequest = Type.Object(
  { name: Type.Optional(CategoryName), retired: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateCategoryRequest = Static<typeof UpdateCategoryRequest>;

/** The caller's role on a channel (null: none, or anonymous). */
export const ChannelRole = Type.Union([
  Type.Literal('owner'),
  Type.Literal('moderator'),
  Type.Literal('vip'),
  Type.Null(),
]);
export type ChannelRole = Static<typeof ChannelRole>;

/** `GET /api/v1/channels/:username`: the public channel. */
export const Channel = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  avatarUrl: Type.Union([Type.String(), Type.Null()]),
  /** The title of the live broadcast, or of the last one seen; empty when it never went live. */
  title: Type.String(),
  category: Type.Union([CategoryRef, Type.Null()]),
  tags: Type.Array(Type.String()),
  about: Type.String(),
  links: Type.Array(Type.String()),
  language: Type.String(),
  mature: Type.Boolean(),
  followers: Type.Integer({ minimum: 0 }),
  live: Type.Boolean(),
  viewers: Type.Integer({ minimum: 0 }),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  /** Whether the caller follows it (false when anonymous). */
  following: Type.Boolean(),
  role: ChannelRole,
});
export type Channel = Static<typeof Channel>;

/** `PATCH /api/v1/me/channel`: only the fields given change; `category: null` clears it. */
export const UpdateChannelRequest = Type.Object(
  {
    category: Type.Optional(Type.Union([CategorySlug, Type.Null()])),
    tags: Type.Optional(Type.Array(ChannelTag, { maxItems: CHANNEL_MAX_TAGS })),
    about: Type.Optional(Type.String({ maxLength: CHANNEL_MAX_ABOUT })),
    links: Type.Optional(Type.Array(ChannelLink, { maxItems: CHANNEL_MAX_LINKS })),
    language: Type.Optional(ChannelLanguage),
    mature: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type UpdateChannelRequest = Static<typeof UpdateChannelRequest>;

/** A channel in a list (follows, search, directory). */
const summaryFields = {
  username: Type.String(),
  displayName: Type.String(),
  avatarUrl: Type.Union([Type.String(), Type.Null()]),
  title: Type.String(),
  category: Type.Union([CategoryRef, Type.Null()]),
  tags: Type.Array(Type.String()),
  live: Type.Boolean(),
  viewers: Type.Integer({ minimum: 0 }),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  thumbnailUrl: Type.Union([Type.String(), Type.Null()]),
};
export const ChannelSummary = Type.Object(summaryFields);
export type ChannelSummary = Static<typeof ChannelSummary>;

export const FollowedChannel = Type.Object({ ...summaryFields, followedAt: Type.String() });
export type FollowedChannel = Static<typeof FollowedChannel>;

/** `GET /api/v1/me/follows`: live channels first, then most recently followed. */
export const FollowList = Type.Object({
  items: Type.Array(FollowedChannel),
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type FollowList = Static<typeof FollowList>;

export const Follower = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  followedAt: Type.String(),
});
export type Follower = Static<typeof Follower>;

/** `GET /api/v1/channels/:username/followers`: the owner gets the list, anyone else the count only. */
export const FollowerList = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  items: Type.Union([Type.Array(Follower), Type.Null()]),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type FollowerList = Static<typeof FollowerList>;

/** `PUT`/`DELETE /api/v1/channels/:username/follow`. */
export const FollowState = Type.Object({
  following: Type.Boolean(),
  followers: Type.Integer({ minimum: 0 }),
});
export type FollowState = Static<typeof FollowState>;

export const RoleHolder = Type.Object({
  userId: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  grantedAt: Type.String(),
});
export type RoleHolder = Static<typeof RoleHolder>;

/** `GET /api/v1/me/channel/roles`. */
export const ChannelRoles = Type.Object({
  moderators: Type.Array(RoleHolder),
  vips: Type.Array(RoleHolder),
});
export type ChannelRoles = Static<typeof ChannelRoles>;

/** `GET /api/v1/search?q=`: live channels first, at most 20 of each. */
export const SearchResults = Type.Object({
  channels: Type.Array(ChannelSummary),
  categories: Type.Array(Category),
});
export type SearchResults = Static<typeof SearchResults>;

/** `GET /api/v1/categories/:slug/streams`: the category's live channels, most watched first. */
export const DirectoryStreams = Type.Object({
  category: CategoryRef,
  items: Type.Array(ChannelSummary),
});
export type DirectoryStreams = Static<typeof DirectoryStreams>;
