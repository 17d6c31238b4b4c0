import type { ChatBadge, RoomSettings } from '@neon/contracts';
import type { Client } from '@neon/kit';
import type { ChatRepository, ChatUser, RoomRecord } from '../store/chat.repository.js';
import type { FanoutItem } from './fanout.js';

/** A socket's membership of one room. */
export interface Member {
  joinRef: string | null;
  /** Broadcasts are held while the join reply (with history) is being prepared. */
  held: FanoutItem[] | null;
  /** Writes already-framed bytes; returns false once the socket is gone. */
  write(bytes: Buffer): void;
}

/** One channel's chat room as this replica knows it: rules from the database, members in memory. */
export class Room {
  readonly members = new Set<Member>();
  owner!: ChatUser;
  settings!: RoomSettings;
  moderators = new Set<string>();
  vips = new Set<string>();
  /** userId → null (banned) or the end of a timeout, in ms. */
  bans = new Map<string, number | null>();

  constructor(
    readonly channel: string,
    record: RoomRecord,
  ) {
    this.apply(record);
  }

  get topic(): string {
    return `room:${this.channel}`;
  }

  apply(record: RoomRecord): void {
    this.owner = record.owner;
    this.settings = record.settings;
    this.moderators = new Set(
      record.roles.filter((r) => r.role === 'moderator').map((r) => r.userId),
    );
    this.vips = new Set(record.roles.filter((r) => r.role === 'vip').map((r) => r.userId));
    this.bans = new Map(record.bans.map((b) => [b.userId, b.until]));
  }

  isOwner(userId: string): boolean {
    return userId === this.owner.id;
  }

  isModerator(client: Client | null): boolean {
    if (!client) return false;
    return (
      this.isOwner(client.id) || this.moderators.has(client.id) || client.roles.includes('admin')
    );
  }

  badges(client: Client): ChatBadge[] {
    const b: ChatBadge[] = [];
    if (this.isOwner(client.id)) b.push('owner');
    if (this.moderators.has(client.id)) b.push('moderator');
    if (this.vips.has(client.id)) b.push('vip');
    if (client.roles.includes('admin')) b.push('admin');
    return b;
  }

  /** The restriction in force for a user now, if any. */
  restriction(userId: string, now: number): 'banned' | 'timed_out' | null {
    if (!this.bans.has(userId)) return null;
    const until = this.bans.get(userId);
    if (until === null) return 'banned';
    if (until !== undefined && until > now) return 'timed_out';
    this.bans.delete(userId);
    return null;
  }
}

/**
 * The rooms this replica has loaded. A room is loaded on first use and kept
 * current by `reload` (after a local change or a peer's notice); a channel
 * that does not exist is never cached, so it appears as soon as its owner
 * registers.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  private readonly loading = new Map<string, Promise<Room | null>>();
  /** The latest re-read started per room. */
  private readonly reads = new Map<string, number>();
  private readSeq = 0;

  constructor(private readonly repo: ChatRepository) {}

  cached(channel: string): Room | undefined {
    return this.rooms.get(channel);
  }

  all(): IterableIterator<Room> {
    return this.rooms.values();
  }

  async get(channel: string): Promise<Room | null> {
    const room = this.rooms.get(channel);
    if (room) return room;
    let p = this.loading.get(channel);
    if (!p) {
      p = this.repo
        .loadRoom(channel)
        .then((record) => {
          if (!record) return null;
          const r = this.rooms.get(channel) ?? new Room(channel, record);
          this.rooms.set(channel, r);
          return r;
        })
        .finally(() => this.loading.delete(channel));
      this.loading.set(channel, p);
    }
    return p;
  }

  /**
   * After this replica changed a room's rules itself (and set them on the room): a re-read in
   * flight may have read the rules before that change committed and would put the old ones
   * back, so it gives way to one that reads after.
   */
  async changedHere(channel: string): Promise<void> {
    if (this.reads.has(channel)) await this.reload(channel);
  }

  /**
   * Re-reads a loaded room's rules; rooms not loaded here need nothing. A load
   * in flight may have read the rules before the change: it is waited for and
   * read again. Of two re-reads in flight, only the later one is applied.
   */
  async reload(channel: string): Promise<void> {
    // Numbered across rooms and never reused: a re-read still in flight after a later one
    // finished must not match the number of the next.
    const read = ++this.readSeq;
    this.reads.set(channel, read);
    try {
      await this.loading.get(channel)?.catch(() => null);
      const room = this.rooms.get(channel);
      if (!room) return;
      const record = await this.repo.loadRoom(channel);
      if (record && this.reads.get(channel) === read) room.apply(record);
    } finally {
      if (this.reads.get(channel) === read) this.reads.delete(channel);
    }
  }
}
