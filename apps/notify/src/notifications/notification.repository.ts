import type { Notification, NotificationKind, NotificationSettings } from '@neon/contracts';
import { enqueueEvent } from '@neon/bus';
import type { Db, Queryable } from '@neon/db';

/** Went-live notifications for one channel are at least this far apart. */
export const WENT_LIVE_MIN_GAP_MINUTES = 10;

interface NotificationRow {
  id: string;
  kind: NotificationKind;
  channel: string;
  title: string | null;
  role: 'moderator' | 'vip' | null;
  created_at: Date | string;
  read_at: Date | string | null;
}

const COLUMNS = `id::text AS id, kind, channel, title, role, created_at, read_at`;

export function toNotification(r: NotificationRow): Notification {
  return {
    id: r.id,
    kind: r.kind,
    channel: r.channel,
    title: r.title,
    role: r.role,
    link: `/${r.channel}`,
    createdAt: new Date(r.created_at).toISOString(),
    read: r.read_at !== null,
  };
}

/** One page of a went-live fan-out: the followers with ids in [fromUserId, toUserId). */
export interface FanOutPage {
  sourceKey: string;
  channelId: string;
  channel: string;
  title: string;
  fromUserId: string;
  toUserId: string | null;
}

/** A notification with the user it belongs to, for pushing. */
export interface Addressed {
  userId: string;
  notification: Notification;
}

export class NotificationRepository {
  constructor(private readonly db: Db) {}

  static async follow(
    q: Queryable,
    f: { channelId: string; channel: string; userId: string; followedAt: string },
  ): Promise<void> {
    await NotificationRepository.channelName(q, f.channelId, f.channel);
    await q.query(
      `INSERT INTO notify.follows (channel_id, user_id, followed_at) VALUES ($1, $2, $3)
       ON CONFLICT (channel_id, user_id) DO UPDATE SET followed_at = EXCLUDED.followed_at`,
      [f.channelId, f.userId, f.followedAt],
    );
  }

  static async unfollow(q: Queryable, channelId: string, userId: string): Promise<void> {
    await q.query(`DELETE FROM notify.follows WHERE channel_id = $1 AND user_id = $2`, [
      channelId,
      userId,
    ]);
  }

  static async channelName(q: Queryable, channelId: string, username: string): Promise<void> {
    await q.query(
      `INSERT INTO notify.channels (channel_id, username) VALUES ($1, $2)
       ON CONFLICT (channel_id) DO UPDATE SET username = EXCLUDED.username`,
      [channelId, username],
    );
  }

  static async suspend(q: Queryable, userId: string, suspended: boolean): Promise<void> {
    if (suspended)
      await q.query(`INSERT INTO notify.suspended (user_id) VALUES ($1) ON CONFLICT DO NOTHING`, [
        userId,
      ]);
    else await q.query(`DELETE FROM notify.suspended WHERE user_id = $1`, [userId]);
  }

  /**
   * One went-live notification per follower of the channel, unless the
   * channel's owner is suspended or the channel notified within the last 10
   * minutes (or for this very broadcast). Up to `pageSize` followers are
   * written here, in one statement; more are cut into pages of `pageSize` by
   * user id, queued in the outbox with this transaction, and written by
   * whichever replica takes each page. Returns the source key when rows were
   * written here, or how many pages were queued and what they write.
   */
  static async wentLive(
    q: Queryable,
    b: { broadcastId: string; channelId: string; channel: string; title: string; at: string },
    pageSize: number,
  ): Promise<{ stored: string | null; pages: number; paged?: FanOutPage }> {
    await NotificationRepository.channelName(q, b.channelId, b.channel);
    const suspended = await q.query(`SELECT 1 FROM notify.suspended WHERE user_id = $1`, [
      b.channelId,
    ]);
    if (suspended.length > 0) return { stored: null, pages: 0 };
    const gate = await q.query(
      `INSERT INTO notify.went_live AS w (channel_id, broadcast_id, notified_at) VALUES ($1, $2, $3)
       ON CONFLICT (channel_id) DO UPDATE
         SET broadcast_id = EXCLUDED.broadcast_id, notified_at = EXCLUDED.notified_at
         WHERE w.broadcast_id <> EXCLUDED.broadcast_id
           AND w.notified_at <= EXCLUDED.notified_at - make_interval(mins => $4)
       RETURNING channel_id`,
      [b.channelId, b.broadcastId, b.at, WENT_LIVE_MIN_GAP_MINUTES],
    );
    if (gate.length === 0) return { stored: null, pages: 0 };
    const sourceKey = `went_live:${b.broadcastId}`;
    // Every pageSize-th follower by id starts a page.
    const starts = await q.query<{ user_id: string }>(
      `SELECT user_id FROM (
         SELECT user_id, row_number() OVER (ORDER BY user_id) AS n
           FROM notify.follows WHERE channel_id = $1) t
        WHERE n % $2 = 1 ORDER BY user_id`,
      [b.channelId, pageSize],
    );
    const page: FanOutPage = {
      sourceKey,
      channelId: b.channelId,
      channel: b.channel,
      title: b.title,
      fromUserId: '',
      toUserId: null,
    };
    if (starts.length <= 1) {
      await NotificationRepository.fanOutPage(q, page);
      return { stored: sourceKey, pages: 0 };
    }
    for (let i = 0; i < starts.length; i++)
      await enqueueEvent(q, 'notify', 'notify.fanout.page.v1', {
        ...page,
        fromUserId: i === 0 ? '' : starts[i]!.user_id,
        toUserId: starts[i + 1]?.user_id ?? null,
      });
    return { stored: null, pages: starts.length, paged: page };
  }

  /** Writes one page of a went-live fan-out in one statement; a page written twice adds nothing. */
  static async fanOutPage(q: Queryable, p: FanOutPage): Promise<void> {
    await NotificationRepository.fanOut(q, p, null);
  }

  /**
   * The went-live notifications of those of `userIds` who follow the channel
   * and want them, written now (the pages that hold them later add nothing);
   * returns the rows this wrote, for pushing.
   */
  async fanOutTo(
    p: Omit<FanOutPage, 'fromUserId' | 'toUserId'>,
    userIds: readonly string[],
  ): Promise<Addressed[]> {
    if (userIds.length === 0) return [];
    const rows = await NotificationRepository.fanOut(
      this.db,
      { ...p, fromUserId: '', toUserId: null },
      userIds,
    );
    return rows.map((r) => ({ userId: r.user_id, notification: toNotification(r) }));
  }

  /** The one statement both write with, so a follower's mutes and settings count the same. */
  private static async fanOut(
    q: Queryable,
    p: FanOutPage,
    only: readonly string[] | null,
  ): Promise<(NotificationRow & { user_id: string })[]> {
    return q.query<NotificationRow & { user_id: string }>(
      `INSERT INTO notify.notifications (user_id, kind, source_key, channel, title)
       SELECT f.user_id, 'went_live', $2, $3, $4
         FROM notify.follows f
        WHERE f.channel_id = $1
          AND f.user_id >= $5 AND ($6::text IS NULL OR f.user_id < $6::text)
          AND ($7::text[] IS NULL OR f.user_id = ANY($7::text[]))
          AND NOT EXISTS (SELECT 1 FROM notify.mutes m
                           WHERE m.user_id = f.user_id AND m.channel_id = f.channel_id)
          AND NOT EXISTS (SELECT 1 FROM notify.settings s
                           WHERE s.user_id = f.user_id AND NOT s.went_live)
       ON CONFLICT (user_id, source_key) DO NOTHING
       ${only ? `RETURNING user_id, ${COLUMNS}` : ''}`,
      [
        p.channelId,
        p.sourceKey,
        p.channel,
        p.title,
        p.fromUserId,
        p.toUserId,
        only ? [...only] : null,
      ],
    );
  }

  /** Returns the source key of the stored notification. */
  static async roleGranted(
    q: Queryable,
    g: { eventId: string; userId: string; channel: string; role: 'moderator' | 'vip' },
  ): Promise<string> {
    const sourceKey = `role:${g.eventId}`;
    await q.query(
      `INSERT INTO notify.notifications (user_id, kind, source_key, channel, role)
       VALUES ($1, 'role_granted', $2, $3, $4)
       ON CONFLICT (user_id, source_key) DO NOTHING`,
      [g.userId, sourceKey, g.channel, g.role],
    );
    return sourceKey;
  }

  /** Newest first, before `before` (an id) when given; one more than `limit` tells whether more follow. */
  async page(userId: string, before: string | null, limit: number): Promise<Notification[]> {
    const rows = await this.db.query<NotificationRow>(
      `SELECT ${COLUMNS} FROM notify.notifications
        WHERE user_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
        ORDER BY notifications.id DESC LIMIT $3`,
      [userId, before, limit],
    );
    return rows.map(toNotification);
  }

  /** What a stream missed after event id `after`, oldest first. */
  async after(userId: string, after: string, limit: number): Promise<Notification[]> {
    const rows = await this.db.query<NotificationRow>(
      `SELECT ${COLUMNS} FROM notify.notifications
        WHERE user_id = $1 AND id > $2::bigint ORDER BY notifications.id LIMIT $3`,
      [userId, after, limit],
    );
    return rows.map(toNotification);
  }

  /** The notifications stored under `sourceKey` for any of `userIds` (within a page's range when given). */
  async bySource(
    sourceKey: string,
    userIds: string[],
    range: { from: string; to: string | null } = { from: '', to: null },
  ): Promise<Addressed[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db.query<NotificationRow & { user_id: string }>(
      `SELECT user_id, ${COLUMNS} FROM notify.notifications
        WHERE source_key = $1 AND user_id = ANY($2::text[])
          AND user_id >= $3 AND ($4::text IS NULL OR user_id < $4::text)
        ORDER BY notifications.id`,
      [sourceKey, userIds, range.from, range.to],
    );
    return rows.map((r) => ({ userId: r.user_id, notification: toNotification(r) }));
  }

  async unreadCount(userId: string): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM notify.notifications WHERE user_id = $1 AND read_at IS NULL`,
      [userId],
    );
    return row?.n ?? 0;
  }

  /** Marks the given ids (the caller's only) or all of them read. */
  async markRead(userId: string, ids: string[] | 'all'): Promise<void> {
    if (ids === 'all') {
      await this.db.query(
        `UPDATE notify.notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL`,
        [userId],
      );
      return;
    }
    if (ids.length === 0) return;
    await this.db.query(
      `UPDATE notify.notifications SET read_at = now()
        WHERE user_id = $1 AND id = ANY($2::bigint[]) AND read_at IS NULL`,
      [userId, ids],
    );
  }

  async channelId(username: string): Promise<string | null> {
    const [row] = await this.db.query<{ channel_id: string }>(
      `SELECT channel_id FROM notify.channels WHERE username = $1`,
      [username],
    );
    return row?.channel_id ?? null;
  }

  async settings(userId: string): Promise<NotificationSettings> {
    const [s] = await this.db.query<{ went_live: boolean }>(
      `SELECT went_live FROM notify.settings WHERE user_id = $1`,
      [userId],
    );
    const muted = await this.db.query<{ username: string }>(
      `SELECT c.username FROM notify.mutes m JOIN notify.channels c USING (channel_id)
        WHERE m.user_id = $1 ORDER BY c.username`,
      [userId],
    );
    return { wentLive: s?.went_live ?? true, mutedChannels: muted.map((m) => m.username) };
  }

  async setWentLive(userId: string, on: boolean): Promise<void> {
    await this.db.query(
      `INSERT INTO notify.settings (user_id, went_live) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET went_live = EXCLUDED.went_live`,
      [userId, on],
    );
  }

  async mute(userId: string, channelId: string, muted: boolean): Promise<void> {
    if (muted)
      await this.db.query(
        `INSERT INTO notify.mutes (user_id, channel_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [userId, channelId],
      );
    else
      await this.db.query(`DELETE FROM notify.mutes WHERE user_id = $1 AND channel_id = $2`, [
        userId,
        channelId,
      ]);
  }
}
