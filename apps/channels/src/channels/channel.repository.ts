import { enqueueEvent } from '@neon/bus';
import type { Db, Queryable, SqlValue } from '@neon/db';
import type {
  Category,
  CategoryRef,
  ChannelRole,
  ChannelSummary,
  EventData,
  Follower,
  RoleHolder,
} from '@neon/contracts';
import { searchChannels } from './channel-search.js';
import { REFRESH_SEARCH_TEXT, SELECT_CHANNEL, type ChannelRow } from './channel-sql.js';

export type { ChannelRow } from './channel-sql.js';

/** What a channel's settings may change to; each field given replaces the stored one. */
export interface ChannelChanges {
  category?: string | null;
  tags?: string[];
  about?: string;
  links?: string[];
  language?: string;
  mature?: boolean;
}

/** A position in a list ordered newest first: the row's time as PostgreSQL wrote it, and its id. */
export interface Cursor {
  live?: 0 | 1;
  /** Viewers, for a list ordered by them. */
  v?: number;
  at: string;
  id: string;
}

/** Which live channels a list takes: any of the ids or logins, in the category; none given, all. */
export interface LiveFilter {
  userIds?: string[];
  logins?: string[];
  category?: string;
}

export function categoryOf(row: {
  category_slug: string | null;
  category_name: string | null;
}): CategoryRef | null {
  return row.category_slug && row.category_name
    ? { slug: row.category_slug, name: row.category_name }
    : null;
}

export function summaryOf(row: ChannelRow): ChannelSummary {
  const live = row.live_broadcast !== null;
  return {
    username: row.username,
    displayName: row.display_name,
    avatarUrl: row.avatar_url,
    title: row.title,
    category: categoryOf(row),
    tags: row.tags,
    live,
    viewers: live ? (row.viewers ?? 0) : 0,
    startedAt: live && row.started_at ? row.started_at.toISOString() : null,
    thumbnailUrl: live ? `/thumbnails/${row.username}.jpg` : null,
  };
}

/** SQL for channels, categories, follows, roles and the live projection. */
export class ChannelRepository {
  constructor(private readonly db: Db) {}

  /** Creates the user's channel, or brings its names up to date; settings are never touched. */
  static async upsertUser(
    q: Queryable,
    user: { id: string; username: string; displayName: string; avatarUrl?: string | null },
  ): Promise<void> {
    await q.query(
      `INSERT INTO channels.channels (user_id, username, display_name, avatar_url)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id) DO UPDATE SET username = EXCLUDED.username,
         display_name = EXCLUDED.display_name,
         avatar_url = CASE WHEN $5 THEN EXCLUDED.avatar_url ELSE channels.channels.avatar_url END,
         updated_at = now()`,
      [
        user.id,
        user.username,
        user.displayName,
        user.avatarUrl ?? null,
        user.avatarUrl !== undefined,
      ],
    );
    await q.query(REFRESH_SEARCH_TEXT, [user.id]);
  }

  /** The caller's channel exists from their first signed-in request, whatever the bus delivered. */
  async ensure(user: { id: string; username: string }): Promise<void> {
    await this.db.query(
      `INSERT INTO channels.channels (user_id, username, display_name, search_text)
       VALUES ($1, $2, $2, $2) ON CONFLICT (user_id) DO NOTHING`,
      [user.id, user.username],
    );
  }

  async byUsername(username: string): Promise<ChannelRow | null> {
    const rows = await this.db.query<ChannelRow>(`${SELECT_CHANNEL} WHERE c.username = $1`, [
      username,
    ]);
    return rows[0] ?? null;
  }

  async byUserId(userId: string): Promise<ChannelRow | null> {
    return ChannelRepository.rowIn(this.db, userId);
  }

  /** A channel as a transaction sees it (what a webhook reports of a change being saved). */
  static async rowIn(q: Queryable, userId: string): Promise<ChannelRow | null> {
    const rows = await q.query<ChannelRow>(`${SELECT_CHANNEL} WHERE c.user_id = $1`, [userId]);
    return rows[0] ?? null;
  }

  /** Channels by owner id or username, in no particular order. */
  async byIdsOrLogins(ids: string[], logins: string[]): Promise<ChannelRow[]> {
    if (ids.length === 0 && logins.length === 0) return [];
    return this.db.query<ChannelRow>(
      `${SELECT_CHANNEL} WHERE c.user_id = ANY($1::text[]) OR c.username = ANY($2::text[])`,
      [ids, logins],
    );
  }

  /**
   * Live channels, most watched first, then longest live. The cursor is the
   * last row's place in that order: counts move between pages, so a channel
   * can show up twice or not at all across pages, as on any list by viewers.
   */
  async live(filter: LiveFilter, limit: number, after: Cursor | null): Promise<ChannelRow[]> {
    const params: SqlValue[] = [
      filter.userIds ?? null,
      filter.logins ?? null,
      filter.category ?? null,
      limit,
    ];
    let where = '';
    if (after) {
      params.push(after.v ?? 0, after.at, after.id);
      where = `AND (l.viewers < $5 OR (l.viewers = $5 AND (l.started_at, c.user_id) > ($6::timestamptz, $7)))`;
    }
    return this.db.query<ChannelRow>(
      `${SELECT_CHANNEL.replace('LEFT JOIN channels.live', 'JOIN channels.live')}
        WHERE (($1::text[] IS NULL AND $2::text[] IS NULL)
               OR c.user_id = ANY($1::text[]) OR c.username = ANY($2::text[]))
          AND ($3::text IS NULL OR c.category_slug = $3)
          ${where}
        ORDER BY l.viewers DESC, l.started_at, c.user_id LIMIT $4`,
      params,
    );
  }

  async activeCategory(slug: string): Promise<CategoryRef | null> {
    const rows = await this.db.query<CategoryRef>(
      `SELECT slug, name FROM channels.categories WHERE slug = $1 AND retired_at IS NULL`,
      [slug],
    );
    return rows[0] ?? null;
  }

  /** Saves the changes; `within` runs in the same transaction, after them. */
  async update(
    userId: string,
    changes: ChannelChanges,
    within?: (q: Queryable) => Promise<void>,
  ): Promise<void> {
    const sets: string[] = [];
    const params: (string | boolean | string[] | null)[] = [userId];
    const set = (column: string, value: string | boolean | string[] | null) => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (changes.category !== undefined) set('category_slug', changes.category);
    if (changes.tags !== undefined) set('tags', changes.tags);
    if (changes.about !== undefined) set('about', changes.about);
    if (changes.links !== undefined) set('links', changes.links);
    if (changes.language !== undefined) set('language', changes.language);
    if (changes.mature !== undefined) set('mature', changes.mature);
    if (sets.length === 0) return;
    await this.db.tx(async (q) => {
      await q.query(
        `UPDATE channels.channels SET ${sets.join(', ')}, updated_at = now() WHERE user_id = $1`,
        params,
      );
      await q.query(REFRESH_SEARCH_TEXT, [userId]);
      if (changes.category !== undefined)
        await q.query(`UPDATE channels.live SET category_slug = $2 WHERE user_id = $1`, [
          userId,
          changes.category,
        ]);
      await within?.(q);
    });
  }

  async categories(): Promise<Category[]> {
    return this.db.query<Category>(
      `SELECT cat.slug, cat.name, count(l.user_id)::int AS "liveChannels",
              COALESCE(sum(l.viewers), 0)::int AS viewers
         FROM channels.categories cat
         LEFT JOIN channels.live l ON l.category_slug = cat.slug
        WHERE cat.retired_at IS NULL
        GROUP BY cat.slug, cat.name, cat.position
        ORDER BY viewers DESC, "liveChannels" DESC, cat.position, cat.name`,
    );
  }

  /** The category's live channels, most watched first. */
  async liveIn(slug: string, limit: number): Promise<ChannelRow[]> {
    return this.db.query<ChannelRow>(
      `${SELECT_CHANNEL.replace('LEFT JOIN channels.live', 'JOIN channels.live')}
        WHERE c.category_slug = $1
        ORDER BY l.viewers DESC, l.started_at, c.username LIMIT $2`,
      [slug, limit],
    );
  }

  // ---- follows

  /** True when this call made the follow (false: it already existed). */
  async follow(
    followerId: string,
    channelId: string,
    event: Omit<EventData<'channels.follow.created.v1'>, 'followedAt'>,
  ): Promise<Date | null> {
    return this.db.tx(async (q) => {
      const rows = await q.query<{ created_at: Date }>(
        `INSERT INTO channels.follows (follower_id, channel_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING RETURNING created_at`,
        [followerId, channelId],
      );
      if (rows.length === 0) return null;
      await q.query(`UPDATE channels.channels SET followers = followers + 1 WHERE user_id = $1`, [
        channelId,
      ]);
      const at = rows[0]!.created_at;
      await enqueueEvent(q, 'channels', 'channels.follow.created.v1', {
        ...event,
        followedAt: at.toISOString(),
      });
      return at;
    });
  }

  /** True when this call removed a follow. */
  async unfollow(
    followerId: string,
    channelId: string,
    event: EventData<'channels.follow.deleted.v1'>,
  ): Promise<boolean> {
    return this.db.tx(async (q) => {
      const rows = await q.query(
        `DELETE FROM channels.follows WHERE follower_id = $1 AND channel_id = $2 RETURNING channel_id`,
        [followerId, channelId],
      );
      if (rows.length === 0) return false;
      await q.query(
        `UPDATE channels.channels SET followers = GREATEST(followers - 1, 0) WHERE user_id = $1`,
        [channelId],
      );
      await enqueueEvent(q, 'channels', 'channels.follow.deleted.v1', event);
      return true;
    });
  }

  async follows(followerId: string, channelId: string): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM channels.follows WHERE follower_id = $1 AND channel_id = $2`,
      [followerId, channelId],
    );
    return rows.length > 0;
  }

  async followerCount(channelId: string): Promise<number> {
    const rows = await this.db.query<{ followers: number }>(
      `SELECT followers FROM channels.channels WHERE user_id = $1`,
      [channelId],
    );
    return rows[0]?.followers ?? 0;
  }

  /**
   * Channels the user follows: live ones first, then the most recently followed.
   *
   * Two index-ordered halves, each stopping at `limit`: the live ones (the user's
   * follows that have a row in the live projection) and the others, walked newest
   * first on follows_follower_newest. One query ordering every follow by its live
   * state sorted all of a heavy follower's channels for each page.
   */
  async following(
    followerId: string,
    limit: number,
    after: Cursor | null,
  ): Promise<{ rows: (ChannelRow & { followed_at: Date; followed_raw: string })[] }> {
    const params: (string | number)[] = [followerId, limit];
    let liveAfter = '';
    let offlineAfter = '';
    if (after) {
      params.push(after.at, after.id);
      const before = `AND (f.created_at, f.channel_id) < ($3::timestamptz, $4)`;
      if (after.live === 1) liveAfter = before;
      else offlineAfter = before;
    }
    const select = SELECT_CHANNEL.replace(
      'FROM channels.channels c',
      'FROM channels.follows f JOIN channels.channels c ON c.user_id = f.channel_id',
    ).replace('SELECT', 'SELECT f.created_at AS followed_at, f.created_at::text AS followed_raw,');
    const live = `(${select.replace('LEFT JOIN channels.live', 'JOIN channels.live')}
        WHERE f.follower_id = $1 ${liveAfter}
        ORDER BY f.created_at DESC, f.channel_id DESC LIMIT $2)`;
    const offline = `(${select}
        WHERE f.follower_id = $1 AND l.user_id IS NULL ${offlineAfter}
        ORDER BY f.created_at DESC, f.channel_id DESC LIMIT $2)`;
    const rows = await this.db.query<ChannelRow & { followed_at: Date; followed_raw: string }>(
      `SELECT * FROM (${after && after.live !== 1 ? offline : `${live} UNION ALL ${offline}`}) page
        ORDER BY (live_broadcast IS NOT NULL) DESC, followed_at DESC, user_id DESC
        LIMIT $2`,
      params,
    );
    return { rows };
  }

  /** The channel's followers, newest first. */
  async followers(
    channelId: string,
    limit: number,
    after: Cursor | null,
  ): Promise<(Follower & { id: string; raw: string })[]> {
    const params: (string | number)[] = [channelId, limit];
    let where = '';
    if (after) {
      params.push(after.at, after.id);
      where = `AND (f.created_at, f.follower_id) < ($3::timestamptz, $4)`;
    }
    const rows = await this.db.query<{
      id: string;
      username: string;
      display_name: string;
      created_at: Date;
      raw: string;
    }>(
      `SELECT f.follower_id AS id, c.username, c.display_name, f.created_at,
              f.created_at::text AS raw
         FROM channels.follows f JOIN channels.channels c ON c.user_id = f.follower_id
        WHERE f.channel_id = $1 ${where}
        ORDER BY f.created_at DESC, f.follower_id DESC LIMIT $2`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      raw: r.raw,
      username: r.username,
      displayName: r.display_name,
      followedAt: r.created_at.toISOString(),
    }));
  }

  // ---- roles

  async roleOf(channelId: string, userId: string): Promise<ChannelRole> {
    if (channelId === userId) return 'owner';
    const rows = await this.db.query<{ role: 'moderator' | 'vip' }>(
      `SELECT role FROM channels.roles WHERE channel_id = $1 AND user_id = $2
        ORDER BY role = 'moderator' DESC LIMIT 1`,
      [channelId, userId],
    );
    return rows[0]?.role ?? null;
  }

  /** True when this call granted the role. Audited; `event` joins the outbox. */
  async grant(
    channelId: string,
    userId: string,
    role: 'moderator' | 'vip',
    actorId: string,
    event: EventData<'channels.role.granted.v1'>,
  ): Promise<boolean> {
    return this.db.tx(async (q) => {
      const rows = await q.query(
        `INSERT INTO channels.roles (channel_id, user_id, role, granted_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING RETURNING role`,
        [channelId, userId, role, actorId],
      );
      if (rows.length === 0) return false;
      await q.query(
        `INSERT INTO channels.audit (actor_id, action, channel_id, target_id, detail)
         VALUES ($1, 'role.granted', $2, $3, $4)`,
        [actorId, channelId, userId, JSON.stringify({ role })],
      );
      await enqueueEvent(q, 'channels', 'channels.role.granted.v1', event);
      return true;
    });
  }

  /** True when this call revoked the role. Audited; `event` joins the outbox. */
  async revoke(
    channelId: string,
    userId: string,
    role: 'moderator' | 'vip',
    actorId: string,
    event: EventData<'channels.role.revoked.v1'>,
  ): Promise<boolean> {
    return this.db.tx(async (q) => {
      const rows = await q.query(
        `DELETE FROM channels.roles WHERE channel_id = $1 AND user_id = $2 AND role = $3 RETURNING role`,
        [channelId, userId, role],
      );
      if (rows.length === 0) return false;
      await q.query(
        `INSERT INTO channels.audit (actor_id, action, channel_id, target_id, detail)
         VALUES ($1, 'role.revoked', $2, $3, $4)`,
        [actorId, channelId, userId, JSON.stringify({ role })],
      );
      await enqueueEvent(q, 'channels', 'channels.role.revoked.v1', event);
      return true;
    });
  }

  async roles(channelId: string): Promise<{ moderators: RoleHolder[]; vips: RoleHolder[] }> {
    const rows = await this.db.query<{
      role: string;
      user_id: string;
      username: string;
      display_name: string;
      granted_at: Date;
    }>(
      `SELECT r.role, r.user_id, c.username, c.display_name, r.granted_at
         FROM channels.roles r JOIN channels.channels c ON c.user_id = r.user_id
        WHERE r.channel_id = $1 ORDER BY c.username`,
      [channelId],
    );
    const holder = (r: (typeof rows)[number]): RoleHolder => ({
      userId: r.user_id,
      username: r.username,
      displayName: r.display_name,
      grantedAt: r.granted_at.toISOString(),
    });
    return {
      moderators: rows.filter((r) => r.role === 'moderator').map(holder),
      vips: rows.filter((r) => r.role === 'vip').map(holder),
    };
  }

  // ---- search

  /** Channels and categories matching `text` (see channel-search.ts). */
  search(text: string, limit: number): Promise<{ channels: ChannelRow[]; categories: Category[] }> {
    return searchChannels(this.db, text, limit);
  }

  // ---- the live projection

  static async liveStarted(
    q: Queryable,
    e: { userId: string; broadcastId: string; title: string; startedAt: string },
  ): Promise<void> {
    await q.query(
      `INSERT INTO channels.live (user_id, broadcast_id, title, started_at, category_slug)
       SELECT $1, $2, $3, $4, (SELECT category_slug FROM channels.channels WHERE user_id = $1)
       ON CONFLICT (user_id) DO UPDATE SET broadcast_id = EXCLUDED.broadcast_id,
         title = EXCLUDED.title, viewers = 0, started_at = EXCLUDED.started_at,
         category_slug = EXCLUDED.category_slug
       WHERE channels.live.started_at <= EXCLUDED.started_at`,
      [e.userId, e.broadcastId, e.title, e.startedAt],
    );
    await q.query(`UPDATE channels.channels SET title = $2 WHERE user_id = $1`, [
      e.userId,
      e.title,
    ]);
    await q.query(REFRESH_SEARCH_TEXT, [e.userId]);
  }

  /** The owner retitled the broadcast that is live: lists and search show the new title. */
  static async liveRetitled(
    q: Queryable,
    e: { userId: string; broadcastId: string; title: string },
  ): Promise<void> {
    await q.query(`UPDATE channels.live SET title = $2 WHERE broadcast_id = $1`, [
      e.broadcastId,
      e.title,
    ]);
    // Only while that broadcast is live: a retitle of an older one, delivered late, must not
    // replace the title a newer broadcast started with.
    await q.query(
      `UPDATE channels.channels SET title = $2
        WHERE user_id = $1 AND EXISTS (SELECT 1 FROM channels.live WHERE broadcast_id = $3)`,
      [e.userId, e.title, e.broadcastId],
    );
    await q.query(REFRESH_SEARCH_TEXT, [e.userId]);
  }

  static async liveEnded(q: Queryable, broadcastId: string): Promise<void> {
    await q.query(`DELETE FROM channels.live WHERE broadcast_id = $1`, [broadcastId]);
  }

  static async viewers(q: Queryable, broadcastId: string, viewers: number): Promise<void> {
    await q.query(`UPDATE channels.live SET viewers = $2 WHERE broadcast_id = $1`, [
      broadcastId,
      viewers,
    ]);
  }

  /** Every broadcast of a previous run ended with it (one process owns them all). */
  async clearLive(): Promise<void> {
    await this.db.query(`DELETE FROM channels.live`);
  }
}
