import { handleOnce, type Bus, type Subscription } from '@neon/bus';
import type { ErrorCode, FollowersOnlyRefusal } from '@neon/contracts';
import type { Db } from '@neon/db';
import type { Client } from '@neon/kit';
import { ReadsInFlight } from './in-flight.js';
import type { Room } from './room.js';
import type { SubscriberBook } from './subscribers.js';

/** When a follow began (ms since epoch), or null: known not to follow. */
export type FollowState = number | null;

/**
 * Who follows which channel, as far as the rooms loaded here need to know:
 * the state of users who joined or wrote while followers-only mode mattered,
 * kept current by the follow events chat projects. A message's check is a
 * map lookup; the database is read only for a user not seen here yet.
 */
export class FollowBook {
  private readonly known = new Map<string, Map<string, FollowState>>();
  private readonly reading = new ReadsInFlight();
  private size = 0;

  constructor(
    private readonly db: Db,
    /** Past this many remembered users the book starts over (each is read again when needed). */
    private readonly capacity = 200_000,
  ) {}

  /** The remembered state; undefined when this replica has not read or heard it. */
  cached(channel: string, userId: string): FollowState | undefined {
    return this.known.get(channel)?.get(userId);
  }

  /**
   * The state now: remembered, or read from chat's projection. A change heard
   * while the read was in flight is newer than what the read returns and wins.
   */
  async lookup(channel: string, userId: string): Promise<FollowState> {
    const hit = this.cached(channel, userId);
    if (hit !== undefined) return hit;
    const rows = await this.reading.during(`${channel}\n${userId}`, () =>
      this.db.query<{ followed_at: Date | string }>(
        `SELECT followed_at FROM chat.follows WHERE channel = $1 AND user_id = $2`,
        [channel, userId],
      ),
    );
    const row = rows[0];
    const read = row ? new Date(row.followed_at).getTime() : null;
    const now = this.cached(channel, userId);
    if (now !== undefined) return now;
    this.remember(channel, userId, read);
    return read;
  }

  /**
   * A follow or unfollow committed to the projection. Rooms nobody here has
   * asked about are skipped: their first lookup reads the committed row. A
   * lookup in flight may have read before the commit, so it is told.
   */
  changed(channel: string, userId: string, state: FollowState): void {
    if (this.known.has(channel) || this.reading.has(`${channel}\n${userId}`))
      this.remember(channel, userId, state);
  }

  private remember(channel: string, userId: string, state: FollowState): void {
    if (this.size >= this.capacity) {
      this.known.clear();
      this.size = 0;
    }
    let users = this.known.get(channel);
    if (!users) this.known.set(channel, (users = new Map()));
    if (!users.has(userId)) this.size++;
    users.set(userId, state);
  }
}

export interface ModeRefusal {
  code: Extract<ErrorCode, 'CHAT_FOLLOWERS_ONLY' | 'CHAT_SUBSCRIBERS_ONLY'>;
  detail: string;
  /** Fields the error reply carries besides `code` and `detail`. */
  extra?: Omit<FollowersOnlyRefusal, 'code' | 'detail'>;
}

/** The owner, the channel's moderators and VIPs, and platform admins write in every mode. */
export function exemptFromModes(room: Room, client: Client): boolean {
  return room.isModerator(client) || room.vips.has(client.id);
}

/**
 * Why the room's followers-only or subscribers-only mode refuses `client`'s
 * message now, or null. Subscribers-only admits the exempt and the channel's
 * subscribers (from payments' events), who pass followers-only too.
 */
export async function modeRefusal(
  room: Room,
  client: Client,
  book: FollowBook,
  subscribers: SubscriberBook,
  now = Date.now(),
): Promise<ModeRefusal | null> {
  const settings = room.settings;
  if (!settings.followersOnly && !settings.subscribersOnly) return null;
  if (exemptFromModes(room, client)) return null;
  if (settings.subscribersOnly) {
    if ((await subscribers.months(room.channel, client.id)) !== null) return null;
    return {
      code: 'CHAT_SUBSCRIBERS_ONLY',
      detail: 'Only subscribers can chat right now: subscribe to this channel to write.',
    };
  }
  const known = book.cached(room.channel, client.id);
  const since = known === undefined ? await book.lookup(room.channel, client.id) : known;
  const minutes = settings.followersOnlyMinutes;
  const ageMs = minutes * 60_000;
  if (since !== null && now - since >= ageMs) return null;
  const waitSeconds = since === null ? minutes * 60 : Math.ceil((since + ageMs - now) / 1000);
  return {
    code: 'CHAT_FOLLOWERS_ONLY',
    detail:
      since === null
        ? minutes > 0
          ? `Followers-only chat: follow this channel, then wait ${minutes} min to write.`
          : 'Followers-only chat: follow this channel to write.'
        : `Followers-only chat: you can write in ${waitSeconds} s.`,
    extra: { following: since !== null, minutes, waitSeconds },
  };
}

/**
 * Projects channels' follow events into `chat.follows` (a durable group from
 * the start of the stream, so every follow made before chat ran is there),
 * then tells every replica through `changed`, after the commit, so a replica
 * that reads the row after hearing of it reads the new state.
 */
export function subscribeFollows(
  bus: Bus,
  db: Db,
  schema: string,
  changed: (channel: string, userId: string, state: FollowState) => Promise<void>,
): Promise<Subscription> {
  return bus.subscribe({
    group: 'chat.follows',
    types: ['channels.follow.created.v1', 'channels.follow.deleted.v1'],
    from: 'all',
    handler: async (event) => {
      const d = event.data;
      const state: FollowState =
        event.type === 'channels.follow.created.v1'
          ? new Date(event.data.followedAt).getTime()
          : null;
      await handleOnce(db, schema, 'chat.follows', event.id, async (q) => {
        if (event.type === 'channels.follow.created.v1') {
          await q.query(
            `INSERT INTO chat.follows (channel, user_id, followed_at) VALUES ($1, $2, $3)
             ON CONFLICT (channel, user_id) DO UPDATE SET followed_at = $3`,
            [d.channel, d.userId, event.data.followedAt],
          );
        } else {
          await q.query(`DELETE FROM chat.follows WHERE channel = $1 AND user_id = $2`, [
            d.channel,
            d.userId,
          ]);
        }
      });
      // Also after a redelivery: the first notice may not have gone out.
      await changed(d.channel, d.userId, state);
    },
  });
}
