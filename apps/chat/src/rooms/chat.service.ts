import Value from 'typebox/value';
import {
  isUsername,
  CHAT_CLIENT_ID_MAX,
  CHAT_HISTORY_ON_JOIN,
  CHAT_RESUME_LIMIT,
  ModerationAction,
  type ChatMessage,
  type ErrorCode,
  type JoinReply,
  type RoomSettings,
  type UserRestricted,
} from '@neon/contracts';
import type { Bus } from '@neon/bus';
import { AppError, uuidv7, type Client, type Logger } from '@neon/kit';
import type { ChatConfig } from '../config.js';
import { cleanBody } from '../domain/body.js';
import { encodeFrame, wsTextFrame } from '../domain/phoenix.js';
import type { RateLimiter } from '../domain/rate-limit.js';
import type { ChatRepository, ChatUser } from '../store/chat.repository.js';
import type { Fanout, FanoutItem, FanoutMessage } from './fanout.js';
import { modeRefusal, type FollowBook, type FollowState } from './follows.js';
import type { SubscriberBook } from './subscribers.js';
import { MessageWriter, type PendingMessage } from './message-writer.js';
import type { Member, Room, RoomRegistry } from './room.js';

/**
 * A refusal of chat's rules: the socket turns it into an error reply carrying
 * `code`, an HTTP route (being an AppError) into problem+json with the code's
 * status.
 */
export class ChatError extends AppError {
  constructor(
    code: ErrorCode,
    detail: string,
    /** Fields the socket's error reply carries besides `code` and `detail`. */
    readonly extra?: Record<string, unknown>,
  ) {
    super(code, detail);
    this.name = 'ChatError';
  }
}

/** Visible ASCII: what a client id may be made of. */
const CLIENT_ID = new RegExp(`^[\\x21-\\x7e]{1,${CHAT_CLIENT_ID_MAX}}$`);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ChatServiceDeps {
  repo: ChatRepository;
  rooms: RoomRegistry;
  limiter: RateLimiter;
  config: Pick<
    ChatConfig,
    | 'CHAT_FLUSH_MS'
    | 'CHAT_FLUSH_MAX'
    | 'CHAT_RATE_LIMIT'
    | 'CHAT_RATE_LIMIT_MODERATOR'
    | 'CHAT_RATE_WINDOW_MS'
  >;
  logger: Logger;
  /** Where `chat.message.created.v1` goes; none, none published. */
  bus?: Pick<Bus, 'publish'> | null;
  /** Who follows which channel, for followers-only mode. */
  follows: FollowBook;
  /** Who subscribes to which channel, for subscribers-only mode and the badge. */
  subscribers: SubscriberBook;
}

/**
 * The rules of chat, free of sockets: joining, shouting, moderating, and
 * delivering committed batches to a room's members (encoded once per batch,
 * written to every member as one buffer).
 */
export class ChatService {
  readonly writer: MessageWriter;
  fanout: Fanout | null = null;
  private readonly pendingRooms = new Map<Room, FanoutItem[]>();
  private flushScheduled = false;
  private readonly profiles = new Map<string, { user: ChatUser | null; at: number }>();
  /** Event publishes not yet settled, so a shutdown can let them finish before the bus closes. */
  private readonly publishing = new Set<Promise<void>>();
  /** Messages this replica stored since start: a plain sum the metrics read. */
  storedMessages = 0;

  constructor(private readonly deps: ChatServiceDeps) {
    this.writer = new MessageWriter(
      (batch) => deps.repo.insertMessages(batch),
      (batch) => this.committed(batch),
      deps.config.CHAT_FLUSH_MS,
      deps.config.CHAT_FLUSH_MAX,
    );
  }

  get rooms(): RoomRegistry {
    return this.deps.rooms;
  }

  /** Resolves a `room:<channel>` topic to its room. */
  async room(topic: string): Promise<Room> {
    const channel = topic.startsWith('room:') ? topic.slice(5) : '';
    const room = isUsername(channel) ? await this.deps.rooms.get(channel) : null;
    if (!room) throw new ChatError('CHAT_ROOM_NOT_FOUND', `No chat room ${topic}.`);
    return room;
  }

  /**
   * Resolves a broadcaster (the channel owner's user id, as `/public/v1`
   * names a channel) to its room, through chat's own projection of users.
   */
  async roomOf(broadcasterId: string): Promise<Room> {
    const owner = UUID.test(broadcasterId) ? await this.deps.repo.userById(broadcasterId) : null;
    const room = owner ? await this.deps.rooms.get(owner.username) : null;
    // The username may have changed hands since the read: the room must still be theirs.
    if (!room?.isOwner(broadcasterId))
      throw new ChatError('CHAT_ROOM_NOT_FOUND', 'No chat room for that broadcaster.');
    return room;
  }

  /**
   * Adds `member` to the room (holding its broadcasts) and returns the join
   * reply. Membership starts before history is read, so a message committed
   * meanwhile is either in the history or in what was held, never lost; the
   * caller releases the held items that the history does not already hold.
   */
  async join(
    room: Room,
    member: Member,
    client: Client | null,
    payload: Record<string, unknown>,
  ): Promise<JoinReply> {
    const lastSeen = payload.last_seen_id;
    if (
      lastSeen !== undefined &&
      lastSeen !== null &&
      (typeof lastSeen !== 'string' || !UUID.test(lastSeen))
    ) {
      throw new ChatError('CHAT_INVALID_MESSAGE', 'last_seen_id must be a message id.');
    }
    // Read now, so the messages of a followers-only room are checked without a query.
    if (client && room.settings.followersOnly)
      await this.deps.follows.lookup(room.channel, client.id);
    member.held = [];
    room.members.add(member);
    try {
      const { repo } = this.deps;
      // A resume also learns which messages it may still show were deleted while it was away.
      const [{ messages: history, gap }, deleted] = lastSeen
        ? await Promise.all([
            repo.after(room.channel, lastSeen, CHAT_RESUME_LIMIT),
            repo.deletedUpTo(room.channel, lastSeen, CHAT_RESUME_LIMIT),
          ])
        : [{ messages: await repo.recent(room.channel, CHAT_HISTORY_ON_JOIN), gap: false }, []];
      return {
        history,
        deleted,
        gap,
        moderator: room.isModerator(client),
        settings: { ...room.settings },
      };
    } catch (err) {
      room.members.delete(member);
      member.held = null;
      throw err;
    }
  }

  /** Sends what was held during the join, minus what the history already carried. */
  release(member: Member, history: readonly ChatMessage[]): void {
    const held = member.held;
    member.held = null;
    if (!held || held.length === 0) return;
    const seen = new Set(history.map((m) => m.id));
    const fresh = held.filter((i) => i.id === null || !seen.has(i.id));
    if (fresh.length > 0)
      member.write(Buffer.concat(fresh.map((i) => wsTextFrame(Buffer.from(i.frame)))));
  }

  leave(room: Room, member: Member): void {
    room.members.delete(member);
  }

  private async displayName(client: Client): Promise<string> {
    const now = Date.now();
    const hit = this.profiles.get(client.id);
    if (hit && now - hit.at < 60_000) return hit.user?.displayName ?? client.username;
    const user = await this.deps.repo.userById(client.id);
    if (this.profiles.size > 50_000) this.profiles.clear();
    this.profiles.set(client.id, { user, at: now });
    return user?.displayName ?? client.username;
  }

  /**
   * Validates and accepts a message; resolves with its id once it is durable.
   * `receivedAt` (performance.now()) is when its frame arrived: the batching
   * window counts from there.
   */
  async shout(
    room: Room,
    client: Client | null,
    payload: Record<string, unknown>,
    receivedAt = performance.now(),
  ): Promise<string> {
    if (!client) throw new ChatError('CHAT_AUTH_REQUIRED', 'Sign in to chat.');
    const clientId = payload.client_id;
    if (clientId !== undefined && (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)))
      throw new ChatError(
        'CHAT_INVALID_MESSAGE',
        `client_id is 1 to ${CHAT_CLIENT_ID_MAX} visible ASCII characters.`,
      );
    // A retry of a stored message is answered as the first try was, before any limit counts it.
    if (clientId !== undefined) {
      const stored = await this.deps.repo.byClientId(room.channel, client.id, clientId);
      if (stored) return stored;
    }
    const cleaned = cleanBody(payload.body);
    if (!cleaned.ok) throw new ChatError(cleaned.code, 'The message body is not valid.');
    const now = Date.now();
    const restriction = room.restriction(client.id, now);
    if (restriction === 'banned')
      throw new ChatError('CHAT_BANNED', 'You are banned from this chat.');
    if (restriction === 'timed_out')
      throw new ChatError('CHAT_TIMED_OUT', 'You are timed out in this chat.');
    const refusal = await modeRefusal(room, client, this.deps.follows, this.deps.subscribers, now);
    if (refusal) throw new ChatError(refusal.code, refusal.detail, refusal.extra);
    const moderator = room.isModerator(client);
    const { config, limiter } = this.deps;
    if (!moderator && room.settings.slowSeconds > 0) {
      const ok = await limiter.take(
        `slow:${room.channel}:${client.id}`,
        1,
        room.settings.slowSeconds * 1000,
      );
      if (!ok)
        throw new ChatError(
          'CHAT_SLOW_MODE',
          `Slow mode: one message every ${room.settings.slowSeconds} s.`,
        );
    }
    const limit = moderator ? config.CHAT_RATE_LIMIT_MODERATOR : config.CHAT_RATE_LIMIT;
    if (
      !(await limiter.take(`msg:${room.channel}:${client.id}`, limit, config.CHAT_RATE_WINDOW_MS))
    ) {
      throw new ChatError('CHAT_RATE_LIMITED', 'You are sending messages too fast.');
    }
    const months = await this.deps.subscribers.months(room.channel, client.id);
    const badges = room.badges(client);
    if (months !== null) badges.push('subscriber');
    const message: ChatMessage = {
      id: uuidv7(),
      body: cleaned.body,
      sender: {
        id: client.id,
        username: client.username,
        displayName: await this.displayName(client),
        badges,
        ...(months !== null ? { subscriberMonths: months } : {}),
      },
      sentAt: new Date().toISOString(),
    };
    // A retry that arrives while the first try waits for its batch is caught by the store's unique index.
    return new Promise<string>((resolve, reject) => {
      this.writer.enqueue(
        {
          channel: room.channel,
          message,
          clientId: clientId ?? null,
          done: (err, storedId) =>
            err
              ? reject(new ChatError('CHAT_UNAVAILABLE', 'The message could not be stored.'))
              : resolve(storedId ?? message.id),
        },
        receivedAt,
      );
    });
  }

  private async committed(batch: readonly PendingMessage[]): Promise<void> {
    this.storedMessages += batch.length;
    const byRoom = new Map<string, FanoutItem[]>();
    for (const p of batch) {
      let items = byRoom.get(p.channel);
      if (!items) byRoom.set(p.channel, (items = []));
      items.push({
        id: p.message.id,
        frame: encodeFrame(null, null, `room:${p.channel}`, 'shout', p.message),
      });
    }
    const sent: Promise<void>[] = [];
    for (const [channel, items] of byRoom) {
      if (this.fanout) sent.push(this.fanout.publish({ room: channel, reload: false, items }));
      const room = this.deps.rooms.cached(channel);
      if (room) this.deliver(room, items);
    }
    // Now rather than on the next turn: the writer times the broadcast as part of the flush.
    this.flushRooms();
    this.publishCreated(batch);
    await Promise.all(sent);
  }

  /**
   * Announces each message of a durable batch to other domains as
   * `chat.message.created.v1`. It starts on a later turn, after the broadcast,
   * and nothing waits for it: neither the room nor the sender's acknowledgement
   * depends on the bus. The envelope id is the message id, so a consumer (or
   * JetStream's duplicate window) sees one event per message whatever retries.
   * A failure is logged; the message itself is already stored and delivered.
   */
  private publishCreated(batch: readonly PendingMessage[]): void {
    const bus = this.deps.bus;
    if (!bus) return;
    const done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() =>
        Promise.allSettled(
          batch.map(({ channel, message: m }) =>
            bus.publish(
              'chat.message.created.v1',
              { id: m.id, channel, senderId: m.sender.id, body: m.body, sentAt: m.sentAt },
              { id: m.id, occurredAt: new Date(m.sentAt) },
            ),
          ),
        ),
      )
      .then((results) => {
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed.length > 0)
          this.deps.logger.error(
            { err: failed[0]!.reason, failed: failed.length, batch: batch.length },
            'message events could not be published',
          );
      })
      .finally(() => this.publishing.delete(done));
    this.publishing.add(done);
  }

  /** Resolves once every message event started so far has been published (or failed). */
  async eventsPublished(): Promise<void> {
    while (this.publishing.size > 0) await Promise.all([...this.publishing]);
  }

  /** A peer replica's batch or notice. */
  async received(message: FanoutMessage): Promise<void> {
    if (message.follow)
      this.deps.follows.changed(message.room, message.follow.userId, message.follow.since);
    if (message.reload) await this.deps.rooms.reload(message.room);
    const room = this.deps.rooms.cached(message.room);
    if (room && message.items.length > 0) this.deliver(room, message.items);
  }

  /**
   * Queues items for a room's members. Everything queued in the same turn of
   * the event loop goes out together: per room, one buffer of frames, framed
   * once and written to each member as is.
   */
  deliver(room: Room, items: readonly FanoutItem[]): void {
    let q = this.pendingRooms.get(room);
    if (!q) this.pendingRooms.set(room, (q = []));
    q.push(...items);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushRooms());
    }
  }

  flushRooms(): void {
    this.flushScheduled = false;
    const rooms = [...this.pendingRooms];
    this.pendingRooms.clear();
    for (const [room, items] of rooms) {
      if (room.members.size === 0) continue;
      const bytes = Buffer.concat(items.map((i) => wsTextFrame(Buffer.from(i.frame))));
      for (const m of room.members) {
        if (m.held) m.held.push(...items);
        else m.write(bytes);
      }
    }
  }

  /** Broadcasts an event to a room on every replica. */
  private announce(room: Room, event: string, payload: unknown, reload: boolean): void {
    const items = [{ id: null, frame: encodeFrame(null, null, room.topic, event, payload) }];
    void this.fanout?.publish({ room: room.channel, reload, items });
    this.deliver(room, items);
  }

  async moderate(
    room: Room,
    actor: Client | null,
    payload: Record<string, unknown>,
  ): Promise<void> {
    if (!actor) throw new ChatError('CHAT_AUTH_REQUIRED', 'Sign in to moderate.');
    if (!room.isModerator(actor))
      throw new ChatError('CHAT_NOT_MODERATOR', 'Only moderators may do this.');
    if (!Value.Check(ModerationAction, payload)) {
      throw new ChatError('CHAT_INVALID_MESSAGE', 'Not a valid moderation action.');
    }
    const action: ModerationAction = payload;
    const { repo } = this.deps;
    const log = {
      id: uuidv7(),
      channel: room.channel,
      actor: { id: actor.id, username: actor.username },
      action: action.action,
      targetUserId: null as string | null,
      targetMessageId: null as string | null,
      details: {} as Record<string, unknown>,
    };
    switch (action.action) {
      case 'delete': {
        if (!UUID.test(action.messageId))
          throw new ChatError('CHAT_MESSAGE_NOT_FOUND', 'No such message.');
        await repo.tx(async (q) => {
          const sender = await repo.deleteMessage(q, room.channel, action.messageId);
          if (sender === null)
            throw new ChatError('CHAT_MESSAGE_NOT_FOUND', 'No such message in this room.');
          await repo.logAction(q, {
            ...log,
            targetMessageId: action.messageId,
            targetUserId: sender,
          });
        });
        this.announce(room, 'delete', { id: action.messageId }, false);
        return;
      }
      case 'timeout':
      case 'ban': {
        this.checkTarget(room, actor, action.userId);
        const until =
          action.action === 'timeout' ? new Date(Date.now() + action.seconds * 1000) : null;
        await repo.tx(async (q) => {
          await repo.ban(q, room.channel, action.userId, until, action.reason ?? null, actor.id);
          await repo.logAction(q, {
            ...log,
            targetUserId: action.userId,
            details: {
              ...(action.action === 'timeout' ? { seconds: action.seconds } : {}),
              ...(action.reason ? { reason: action.reason } : {}),
            },
          });
        });
        room.bans.set(action.userId, until ? until.getTime() : null);
        await this.rulesChangedHere(room);
        const notice: UserRestricted = {
          userId: action.userId,
          until: until?.toISOString() ?? null,
          lifted: false,
        };
        this.announce(room, 'user_restricted', notice, true);
        return;
      }
      case 'unban': {
        await repo.tx(async (q) => {
          await repo.unban(q, room.channel, action.userId);
          await repo.logAction(q, { ...log, targetUserId: action.userId });
        });
        room.bans.delete(action.userId);
        await this.rulesChangedHere(room);
        const notice: UserRestricted = { userId: action.userId, until: null, lifted: true };
        this.announce(room, 'user_restricted', notice, true);
        return;
      }
      case 'slow':
      case 'followers_only':
      case 'subscribers_only': {
        const settings: RoomSettings = { ...room.settings };
        if (action.action === 'slow') settings.slowSeconds = action.seconds;
        else if (action.action === 'followers_only') {
          settings.followersOnly = action.enabled;
          settings.followersOnlyMinutes = action.enabled ? (action.minutes ?? 0) : 0;
        } else settings.subscribersOnly = action.enabled;
        await repo.tx(async (q) => {
          await repo.saveSettings(q, room.channel, settings);
          await repo.logAction(q, {
            ...log,
            details:
              action.action === 'slow'
                ? { seconds: action.seconds }
                : action.action === 'followers_only' && action.enabled
                  ? { enabled: true, minutes: settings.followersOnlyMinutes }
                  : { enabled: action.enabled },
          });
        });
        room.settings = settings;
        await this.rulesChangedHere(room);
        this.announce(room, 'settings', settings, true);
        return;
      }
      default: {
        const never: never = action;
        throw new ChatError('CHAT_INVALID_MESSAGE', `Unknown action ${String(never)}.`);
      }
    }
  }

  /** The change is committed and set on the room; a re-read that began before it must not undo it. */
  private async rulesChangedHere(room: Room): Promise<void> {
    await this.deps.rooms.changedHere(room.channel).catch((err: unknown) =>
      // The room keeps the change; the next event or restart reads the rest again.
      this.deps.logger.error({ err, room: room.channel }, 'room rules not read again'),
    );
  }

  /** Nobody restricts the owner; only the owner or an admin restricts a moderator. */
  private checkTarget(room: Room, actor: Client, target: string): void {
    if (room.isOwner(target) || target === actor.id) {
      throw new ChatError('CHAT_TARGET_PROTECTED', 'This user cannot be restricted here.');
    }
    if (room.moderators.has(target) && !room.isOwner(actor.id) && !actor.roles.includes('admin')) {
      throw new ChatError('CHAT_TARGET_PROTECTED', 'Only the owner may restrict a moderator.');
    }
  }

  /** A follow or unfollow now in chat's projection: known here, and told to the other replicas. */
  async followChanged(channel: string, userId: string, since: FollowState): Promise<void> {
    this.deps.follows.changed(channel, userId, since);
    await this.fanout?.publish({
      room: channel,
      reload: false,
      items: [],
      follow: { userId, since },
    });
  }

  /** Re-reads a room's rules here and tells the other replicas to do the same. */
  async roomChanged(channel: string): Promise<void> {
    await this.deps.rooms.reload(channel);
    await this.fanout?.publish({ room: channel, reload: true, items: [] });
  }
}
