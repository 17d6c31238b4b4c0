import type { ChatMessage, ChatSender, ModerationLogEntry, RoomSettings } from '@neon/contracts';
import type { Db, Queryable } from '@neon/db';

export interface ChatUser {
  id: string;
  username: string;
  displayName: string;
}

export type RoomRole = 'moderator' | 'vip';

export interface RoomRecord {
  owner: ChatUser;
  settings: RoomSettings;
  roles: { userId: string; role: RoomRole }[];
  /** `until` null: banned; otherwise timed out until then (ms since epoch). */
  bans: { userId: string; until: number | null }[];
}

export interface StoredMessage {
  channel: string;
  message: ChatMessage;
  /** The sender's id for the message, unique per sender and room. */
  clientId?: string | null;
}

interface MessageRow {
  id: string;
  body: string;
  sender: ChatSender | string;
  sent_at: Date | string;
}

const iso = (v: Date | string): string => (v instanceof Date ? v : new Date(v)).toISOString();

function toMessage(row: MessageRow): ChatMessage {
  return {
    id: row.id,
    body: row.body,
    sender: typeof row.sender === 'string' ? (JSON.parse(row.sender) as ChatSender) : row.sender,
    sentAt: iso(row.sent_at),
  };
}

export const DEFAULT_SETTINGS: RoomSettings = {
  slowSeconds: 0,
  followersOnly: false,
  followersOnlyMinutes: 0,
  subscribersOnly: false,
};

/** The chat schema's SQL, and nothing else. */
export class ChatRepository {
  constructor(private readonly db: Db) {}

  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.db.tx(fn);
  }

  async upsertUser(q: Queryable, user: ChatUser): Promise<void> {
    // A username freed by a rename can be taken by someone else: the newest claim wins.
    await q.query(`DELETE FROM chat.users WHERE username = $1 AND id <> $2`, [
      user.username,
      user.id,
    ]);
    await q.query(
      `INSERT INTO chat.users (id, username, display_name) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET username = $2, display_name = $3, updated_at = now()`,
      [user.id, user.username, user.displayName],
    );
  }

  async userById(id: string): Promise<ChatUser | null> {
    const rows = await this.db.query<{ id: string; username: string; display_name: string }>(
      `SELECT id, username, display_name FROM chat.users WHERE id = $1`,
      [id],
    );
    const r = rows[0];
    return r ? { id: r.id, username: r.username, displayName: r.display_name } : null;
  }

  async setRole(
    q: Queryable,
    channel: string,
    userId: string,
    role: RoomRole,
    granted: boolean,
  ): Promise<void> {
    if (granted) {
      await q.query(
        `INSERT INTO chat.roles (channel, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [channel, userId, role],
      );
    } else {
      await q.query(`DELETE FROM chat.roles WHERE channel = $1 AND user_id = $2 AND role = $3`, [
        channel,
        userId,
        role,
      ]);
    }
  }

  /** Everything a replica needs to enforce a room's rules; null when no such channel exists. */
  async loadRoom(channel: string): Promise<RoomRecord | null> {
    const users = await this.db.query<{ id: string; username: string; display_name: string }>(
      `SELECT id, username, display_name FROM chat.users WHERE username = $1`,
      [channel],
    );
    const u = users[0];
    if (!u) return null;
    const [settings, roles, bans] = await Promise.all([
      this.db.query<{
        slow_seconds: number;
        followers_only: boolean;
        followers_only_minutes: number;
        subscribers_only: boolean;
      }>(
        `SELECT slow_seconds, followers_only, followers_only_minutes, subscribers_only
         FROM chat.room_settings WHERE channel = $1`,
        [channel],
      ),
      this.db.query<{ user_id: string; role: RoomRole }>(
        `SELECT user_id, role FROM chat.roles WHERE channel = $1`,
        [channel],
      ),
      this.db.query<{ user_id: string; until: Date | string | null }>(
        `SELECT user_id, until FROM chat.bans WHERE channel = $1 AND (until IS NULL OR until > now())`,
        [channel],
      ),
    ]);
    const s = settings[0];
    return {
      owner: { id: u.id, username: u.username, displayName: u.display_name },
      settings: s
        ? {
            slowSeconds: s.slow_seconds,
            followersOnly: s.followers_only,
            followersOnlyMinutes: s.followers_only_minutes,
            subscribersOnly: s.subscribers_only,
          }
        : { ...DEFAULT_SETTINGS },
      roles: roles.map((r) => ({ userId: r.user_id, role: r.role })),
      bans: bans.map((b) => ({
        userId: b.user_id,
        until: b.until === null ? null : new Date(b.until).getTime(),
      })),
    };
  }

  /**
   * One round trip for a whole batch, whatever its size. Returns the id each
   * entry is stored under: its own, or for a retry (a client id the sender
   * already used in the room, on any replica) the first one's.
   */
  async insertMessages(batch: readonly StoredMessage[]): Promise<string[]> {
    if (batch.length === 0) return [];
    const inserted = await this.db.query<{ id: string }>(
      `INSERT INTO chat.messages (id, channel, sender_id, sender, body, sent_at, client_id)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::timestamptz[], $7::text[])
       ON CONFLICT (channel, sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
       RETURNING id`,
      [
        batch.map((m) => m.message.id),
        batch.map((m) => m.channel),
        batch.map((m) => m.message.sender.id),
        batch.map((m) => JSON.stringify(m.message.sender)),
        batch.map((m) => m.message.body),
        batch.map((m) => m.message.sentAt),
        batch.map((m) => m.clientId ?? null),
      ],
    );
    if (inserted.length === batch.length) return batch.map((m) => m.message.id);
    const fresh = new Set(inserted.map((r) => r.id));
    const retries = batch.filter((m) => !fresh.has(m.message.id));
    const firsts = await this.db.query<{
      id: string;
      channel: string;
      sender_id: string;
      client_id: string;
    }>(
      `SELECT m.id, m.channel, m.sender_id, m.client_id FROM chat.messages m
       JOIN unnest($1::text[], $2::text[], $3::text[]) AS r(channel, sender_id, client_id)
         ON m.channel = r.channel AND m.sender_id = r.sender_id AND m.client_id = r.client_id`,
      [
        retries.map((m) => m.channel),
        retries.map((m) => m.message.sender.id),
        retries.map((m) => m.clientId ?? null),
      ],
    );
    const key = (channel: string, sender: string, clientId: string) =>
      `${channel}\n${sender}\n${clientId}`;
    const stored = new Map(firsts.map((r) => [key(r.channel, r.sender_id, r.client_id), r.id]));
    return batch.map((m) =>
      fresh.has(m.message.id)
        ? m.message.id
        : (stored.get(key(m.channel, m.message.sender.id, m.clientId ?? '')) ?? m.message.id),
    );
  }

  /** The id of the message a sender already sent in a room under `clientId`, if any. */
  async byClientId(channel: string, senderId: string, clientId: string): Promise<string | null> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id FROM chat.messages WHERE channel = $1 AND sender_id = $2 AND client_id = $3`,
      [channel, senderId, clientId],
    );
    return rows[0]?.id ?? null;
  }

  /** The newest `limit` messages, oldest first. */
  async recent(channel: string, limit: number): Promise<ChatMessage[]> {
    const rows = await this.db.query<MessageRow>(
      `SELECT id, body, sender, sent_at FROM chat.messages
       WHERE channel = $1 AND deleted_at IS NULL ORDER BY id DESC LIMIT $2`,
      [channel, limit],
    );
    return rows.map(toMessage).reverse();
  }

  /**
   * The newest `limit` messages after `lastSeenId`, oldest first, and whether
   * there were more (`gap`: the ones between were left out).
   */
  async after(
    channel: string,
    lastSeenId: string,
    limit: number,
  ): Promise<{ messages: ChatMessage[]; gap: boolean }> {
    const rows = await this.db.query<MessageRow>(
      `SELECT id, body, sender, sent_at FROM chat.messages
       WHERE channel = $1 AND id > $2 AND deleted_at IS NULL ORDER BY id DESC LIMIT $3`,
      [channel, lastSeenId, limit + 1],
    );
    const gap = rows.length > limit;
    return { messages: rows.slice(0, limit).map(toMessage).reverse(), gap };
  }

  /**
   * The ids of deleted messages among the newest `limit` messages (deleted or
   * not) up to and including `lastSeenId`, oldest first: what a client resuming
   * from there may still show. One backward range scan of (channel, id).
   */
  async deletedUpTo(channel: string, lastSeenId: string, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id FROM (
         SELECT id, deleted_at FROM chat.messages
         WHERE channel = $1 AND id <= $2 ORDER BY id DESC LIMIT $3
       ) recent WHERE deleted_at IS NOT NULL ORDER BY id ASC`,
      [channel, lastSeenId, limit],
    );
    return rows.map((r) => r.id);
  }

  async deleteMessage(q: Queryable, channel: string, id: string): Promise<string | null> {
    const rows = await q.query<{ sender_id: string }>(
      `UPDATE chat.messages SET deleted_at = now()
       WHERE channel = $1 AND id = $2 AND deleted_at IS NULL RETURNING sender_id`,
      [channel, id],
    );
    return rows[0]?.sender_id ?? null;
  }

  async saveSettings(q: Queryable, channel: string, s: RoomSettings): Promise<void> {
    await q.query(
      `INSERT INTO chat.room_settings
         (channel, slow_seconds, followers_only, subscribers_only, followers_only_minutes)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (channel) DO UPDATE SET slow_seconds = $2, followers_only = $3,
         subscribers_only = $4, followers_only_minutes = $5, updated_at = now()`,
      [channel, s.slowSeconds, s.followersOnly, s.subscribersOnly, s.followersOnlyMinutes],
    );
  }

  async ban(
    q: Queryable,
    channel: string,
    userId: string,
    until: Date | null,
    reason: string | null,
    by: string,
  ): Promise<void> {
    await q.query(
      `INSERT INTO chat.bans (channel, user_id, until, reason, created_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (channel, user_id) DO UPDATE SET until = $3, reason = $4, created_by = $5, created_at = now()`,
      [channel, userId, until, reason, by],
    );
  }

  async unban(q: Queryable, channel: string, userId: string): Promise<boolean> {
    const rows = await q.query(
      `DELETE FROM chat.bans WHERE channel = $1 AND user_id = $2 RETURNING user_id`,
      [channel, userId],
    );
    return rows.length > 0;
  }

  async logAction(
    q: Queryable,
    entry: {
      id: string;
      channel: string;
      actor: { id: string; username: string };
      action: string;
      targetUserId: string | null;
      targetMessageId: string | null;
      details: Record<string, unknown>;
    },
  ): Promise<void> {
    await q.query(
      `INSERT INTO chat.moderation_log
         (id, channel, actor_id, actor_username, action, target_user_id, target_message_id, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
      [
        entry.id,
        entry.channel,
        entry.actor.id,
        entry.actor.username,
        entry.action,
        entry.targetUserId,
        entry.targetMessageId,
        JSON.stringify(entry.details),
      ],
    );
  }

  async moderationLog(
    channel: string,
    limit: number,
    before: string | undefined,
  ): Promise<ModerationLogEntry[]> {
    const rows = await this.db.query<{
      id: string;
      action: string;
      actor_id: string;
      actor_username: string;
      target_user_id: string | null;
      target_message_id: string | null;
      details: Record<string, unknown> | string;
      created_at: Date | string;
    }>(
      `SELECT id, action, actor_id, actor_username, target_user_id, target_message_id, details, created_at
       FROM chat.moderation_log
       WHERE channel = $1 AND ($2::uuid IS NULL OR id < $2::uuid)
       ORDER BY id DESC LIMIT $3`,
      [channel, before ?? null, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      action: r.action,
      actor: { id: r.actor_id, username: r.actor_username },
      targetUserId: r.target_user_id,
      targetMessageId: r.target_message_id,
      details:
        typeof r.details === 'string'
          ? (JSON.parse(r.details) as Record<string, unknown>)
          : r.details,
      createdAt: iso(r.created_at),
    }));
  }
}
