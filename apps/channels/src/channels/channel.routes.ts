import Type from 'typebox';
import {
  UsernameParam,
  CategoryList,
  CategorySlug,
  Channel,
  DirectoryStreams,
  SEARCH_LIMIT,
  SearchResults,
  UpdateChannelRequest,
  type Channel as ChannelBody,
} from '@neon/contracts';
import type { Queryable } from '@neon/db';
import { AppError, requireUser, type Client, type FastifyPluginAsyncTypebox } from '@neon/kit';
import {
  categoryOf,
  summaryOf,
  type ChannelRepository,
  type ChannelRow,
} from './channel.repository.js';

/** Told of a change to a channel's settings: webhooks (channel.update) are queued with it. */
export interface ChannelChangeHook {
  /** In the transaction that saves the change, after it. */
  saving(q: Queryable, userId: string): Promise<void>;
  /** Once it is committed. */
  saved(): void;
}

export interface ChannelRoutesOptions {
  repo: ChannelRepository;
  onChange?: ChannelChangeHook;
}

export async function channelView(
  repo: ChannelRepository,
  row: ChannelRow,
  caller: Client | null,
): Promise<ChannelBody> {
  const s = summaryOf(row);
  return {
    username: row.username,
    displayName: row.display_name,
    avatarUrl: row.avatar_url,
    title: row.title,
    category: categoryOf(row),
    tags: row.tags,
    about: row.about,
    links: row.links,
    language: row.language,
    mature: row.mature,
    followers: row.followers,
    live: s.live,
    viewers: s.viewers,
    startedAt: s.startedAt,
    following: caller ? await repo.follows(caller.id, row.user_id) : false,
    role: caller ? await repo.roleOf(row.user_id, caller.id) : null,
  };
}

/** The owner's own channel, created on first use should the bus not have delivered it yet. */
export async function ownChannel(repo: ChannelRepository, client: Client): Promise<ChannelRow> {
  await repo.ensure(client);
  const row = await repo.byUserId(client.id);
  if (!row) throw new AppError('CHANNELS_CHANNEL_NOT_FOUND', 'You have no channel.');
  return row;
}

export async function channelNamed(repo: ChannelRepository, username: string): Promise<ChannelRow> {
  const row = await repo.byUsername(username.toLowerCase());
  if (!row) throw new AppError('CHANNELS_CHANNEL_NOT_FOUND', `No channel named ${username}.`);
  return row;
}

/** Lower-cases tags and drops repeats, keeping the order given. */
function normaliseTags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.toLowerCase()))];
}

function checkLinks(links: string[]): string[] {
  links.forEach((link, i) => {
    let ok = false;
    try {
      const u = new URL(link);
      ok = u.protocol === 'https:' && u.hostname.includes('.') && !u.username && !u.password;
    } catch {
      ok = false;
    }
    if (!ok)
      throw new AppError('VALIDATION_FAILED', `body.links.${i} must be an https link.`, {
        errors: [{ field: `body.links.${i}`, message: 'must be an https link to a site' }],
      });
  });
  return links;
}

/**
 * The owner changes their channel's settings: each field given replaces the
 * stored one. A change to what channel.update reports (category, tags,
 * language, mature) is told to `onChange`; the about text and links are not.
 */
export async function changeChannel(
  repo: ChannelRepository,
  client: Client,
  b: UpdateChannelRequest,
  onChange?: ChannelChangeHook,
): Promise<void> {
  await ownChannel(repo, client);
  if (b.category !== undefined && b.category !== null && !(await repo.activeCategory(b.category)))
    throw new AppError('VALIDATION_FAILED', `body.category: no category ${b.category}.`, {
      errors: [{ field: 'body.category', message: 'is not a category' }],
    });
  const reported =
    b.category !== undefined ||
    b.tags !== undefined ||
    b.language !== undefined ||
    b.mature !== undefined;
  const hook = reported ? onChange : undefined;
  await repo.update(
    client.id,
    {
      ...(b.category !== undefined ? { category: b.category } : {}),
      ...(b.tags !== undefined ? { tags: normaliseTags(b.tags) } : {}),
      ...(b.about !== undefined ? { about: b.about } : {}),
      ...(b.links !== undefined ? { links: checkLinks(b.links) } : {}),
      ...(b.language !== undefined ? { language: b.language } : {}),
      ...(b.mature !== undefined ? { mature: b.mature } : {}),
    },
    hook && ((q) => hook.saving(q, client.id)),
  );
  hook?.saved();
}

export const channelRoutes: FastifyPluginAsyncTypebox<ChannelRoutesOptions> = async (app, o) => {
  const { repo } = o;

  app.get(
    '/api/v1/channels/:username',
    { schema: { params: Type.Object({ username: UsernameParam }), response: { 200: Channel } } },
    async (request) =>
      channelView(repo, await channelNamed(repo, request.params.username), request.client),
  );

  app.get('/api/v1/me/channel', { schema: { response: { 200: Channel } } }, async (request) => {
    const client = requireUser(request);
    return channelView(repo, await ownChannel(repo, client), client);
  });

  app.patch(
    '/api/v1/me/channel',
    { schema: { body: UpdateChannelRequest, response: { 200: Channel } } },
    async (request) => {
      const client = requireUser(request);
      await changeChannel(repo, client, request.body, o.onChange);
      return channelView(repo, await ownChannel(repo, client), client);
    },
  );

  app.get('/api/v1/categories', { schema: { response: { 200: CategoryList } } }, async () => ({
    items: await repo.categories(),
  }));

  app.get(
    '/api/v1/categories/:slug/streams',
    {
      schema: {
        params: Type.Object({ slug: CategorySlug }),
        response: { 200: DirectoryStreams },
      },
    },
    async (request) => {
      const category = await repo.activeCategory(request.params.slug);
      if (!category)
        throw new AppError('CHANNELS_CATEGORY_NOT_FOUND', `No category ${request.params.slug}.`);
      const rows = await repo.liveIn(category.slug, 100);
      return { category, items: rows.map(summaryOf) };
    },
  );

  app.get(
    '/api/v1/search',
    {
      schema: {
        querystring: Type.Object({ q: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 200: SearchResults },
      },
    },
    async (request) => {
      const text = request.query.q.trim().toLowerCase().replace(/\s+/g, ' ');
      if (text === '') return { channels: [], categories: [] };
      const found = await repo.search(text, SEARCH_LIMIT);
      return { channels: found.channels.map(summaryOf), categories: found.categories };
    },
  );
};
