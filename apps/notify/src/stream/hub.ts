import type { Bus, Subscription } from '@neon/bus';
import type { LiveStatusEvent, ViewersEvent } from '@neon/contracts';
import type { Logger } from '@neon/kit';
import type { ConnectionQuota } from '@neon/platform';
import type {
  Addressed,
  FanOutPage,
  NotificationRepository,
} from '../notifications/notification.repository.js';
import type { SseStream } from './sse.js';

export interface HubOptions {
  repo: NotificationRepository;
  bus: Bus;
  logger: Logger;
  /** Each user's open streams, on every replica. */
  quota: ConnectionQuota;
  heartbeatMs: number;
  viewersIntervalMs: number;
}

/** Connected users written per statement when a paged fan-out serves them first. */
const CONNECTED_BATCH = 5000;

interface ViewerState {
  /** The latest count not yet sent, if any. */
  pending: number | null;
  lastSentAt: number;
  timer: NodeJS.Timeout | null;
}

/**
 * The streams this replica holds, by user and by public channel. Every
 * replica hears every push hint and live event (broadcast subscriptions), and
 * delivers to the streams it holds; the stored rows are the truth, so a stream
 * that moves to another replica resumes from them.
 */
export class StreamHub {
  private readonly byUser = new Map<string, Set<SseStream>>();
  private readonly byChannel = new Map<string, Set<SseStream>>();
  /** Streams that hear every channel's live status (the directory pages). */
  private readonly directory = new Set<SseStream>();
  private readonly viewers = new Map<string, ViewerState>();
  /**
   * The latest status and count heard for every live channel, watched here or
   * not: a stream that opens after its page read them is told the current ones
   * at once, or a change between the read and the open would never reach it.
   */
  private readonly statuses = new Map<string, string>();
  private readonly counts = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | null = null;
  private subscriptions: Subscription[] = [];
  /** Connected-first fan-outs running here, by source key. */
  private readonly connectedFirst = new Map<string, Promise<void>>();

  constructor(private readonly o: HubOptions) {}

  add(s: SseStream): void {
    if (s.userId !== null) addTo(this.byUser, s.userId, s);
    if (s.directory) this.directory.add(s);
    for (const c of s.channels) {
      addTo(this.byChannel, c, s);
      const status = this.statuses.get(c);
      if (status !== undefined) s.event('live', status);
      const viewers = this.counts.get(c);
      if (viewers !== undefined)
        s.event('viewers', JSON.stringify({ channel: c, viewers } satisfies ViewersEvent));
    }
  }

  remove(s: SseStream): void {
    if (s.userId !== null) {
      removeFrom(this.byUser, s.userId, s);
      this.o.quota.release(s.userId, s.id);
    }
    this.directory.delete(s);
    for (const c of s.channels) {
      removeFrom(this.byChannel, c, s);
      if (!this.byChannel.has(c)) this.dropViewers(c);
    }
  }

  async start(): Promise<void> {
    this.heartbeat = setInterval(() => {
      for (const set of this.byUser.values()) for (const s of set) s.comment('hb');
      for (const set of this.byChannel.values())
        for (const s of set) if (s.userId === null) s.comment('hb');
      for (const s of this.directory)
        if (s.userId === null && s.channels.size === 0) s.comment('hb');
      const held = [...this.byUser.values()].flatMap((set) =>
        [...set].map((s) => ({ userId: s.userId!, socketId: s.id })),
      );
      this.o.quota
        .renew(held)
        .catch((err: unknown) => this.o.logger.warn({ err }, 'open streams not renewed'));
    }, this.o.heartbeatMs);
    this.heartbeat.unref();
    this.subscriptions = [
      await this.o.bus.subscribe({
        types: ['notify.notifications.stored.v1'],
        handler: async (event) =>
          this.pushStored(event.data.sourceKey, {
            from: event.data.fromUserId ?? '',
            to: event.data.toUserId ?? null,
          }),
      }),
      await this.o.bus.subscribe({
        types: ['notify.fanout.online.v1'],
        handler: async (event) => {
          const key = event.data.sourceKey;
          const run = this.fanOutToConnected(event.data);
          this.connectedFirst.set(key, run);
          try {
            await run;
          } finally {
            if (this.connectedFirst.get(key) === run) this.connectedFirst.delete(key);
          }
        },
      }),
      await this.o.bus.subscribe({
        types: [
          'live.stream.started.v1',
          'live.stream.updated.v1',
          'live.stream.ended.v1',
          'live.viewers.updated.v1',
        ],
        handler: async (event) => {
          const channel = event.data.channel;
          if (event.type === 'live.viewers.updated.v1') {
            this.counts.set(channel, event.data.viewers);
            if (this.byChannel.has(channel)) this.viewersChanged(channel, event.data.viewers);
            return;
          }
          const status: LiveStatusEvent = {
            channel,
            live: event.type !== 'live.stream.ended.v1',
            broadcastId: event.data.broadcastId,
            title: event.type === 'live.stream.ended.v1' ? null : event.data.title,
          };
          const data = JSON.stringify(status);
          this.toChannel(channel, 'live', data);
          if (status.live) this.statuses.set(channel, data);
          else {
            this.statuses.delete(channel);
            this.counts.delete(channel);
          }
          if (!status.live && this.byChannel.has(channel)) this.viewersChanged(channel, 0);
        },
      }),
    ];
  }

  /**
   * Settles once this replica has written its connected followers' notifications of
   * `sourceKey` (at once if it is not doing so): the pages of the same fan-out wait for it, so
   * on a busy machine the watchers' rows are not queued behind everyone else's.
   */
  connectedWritten(sourceKey: string): Promise<void> {
    return this.connectedFirst.get(sourceKey) ?? Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await Promise.all(this.subscriptions.map((s) => s.close()));
    for (const v of this.viewers.values()) if (v.timer) clearTimeout(v.timer);
    const all = new Set<SseStream>();
    for (const set of [...this.byUser.values(), ...this.byChannel.values()])
      for (const s of set) all.add(s);
    for (const s of all) s.close();
  }

  private async pushStored(
    sourceKey: string,
    range: { from: string; to: string | null },
  ): Promise<void> {
    const users = [...this.byUser.keys()];
    if (users.length === 0) return;
    try {
      this.push(await this.o.repo.bySource(sourceKey, users, range));
    } catch (err) {
      // The rows stay stored: the next reconnect or list shows them.
      this.o.logger.warn({ err, sourceKey }, 'stored notifications not pushed');
    }
  }

  /** Writes and pushes the went-live notifications of the followers with a stream here. */
  private async fanOutToConnected(p: Omit<FanOutPage, 'fromUserId' | 'toUserId'>): Promise<void> {
    const users = [...this.byUser.keys()];
    try {
      for (let i = 0; i < users.length; i += CONNECTED_BATCH)
        this.push(await this.o.repo.fanOutTo(p, users.slice(i, i + CONNECTED_BATCH)));
    } catch (err) {
      // Nothing is lost: the pages write (and announce) every follower's.
      this.o.logger.warn({ err, sourceKey: p.sourceKey }, 'connected followers not notified first');
    }
  }

  private push(rows: readonly Addressed[]): void {
    for (const { userId, notification } of rows) {
      const data = JSON.stringify(notification);
      for (const s of this.byUser.get(userId) ?? []) s.notification(notification.id, data);
    }
  }

  private toChannel(channel: string, event: string, data: string): void {
    const watching = this.byChannel.get(channel);
    for (const s of watching ?? []) s.event(event, data);
    if (event !== 'live') return;
    for (const s of this.directory) if (!watching?.has(s)) s.event(event, data);
  }

  /** Sends now if the channel's last count went out long enough ago, else the latest one later. */
  private viewersChanged(channel: string, viewers: number): void {
    let v = this.viewers.get(channel);
    if (!v) {
      v = { pending: null, lastSentAt: 0, timer: null };
      this.viewers.set(channel, v);
    }
    v.pending = viewers;
    if (v.timer) return;
    const wait = v.lastSentAt + this.o.viewersIntervalMs - Date.now();
    if (wait <= 0) return this.flushViewers(channel, v);
    v.timer = setTimeout(() => {
      v.timer = null;
      this.flushViewers(channel, v);
    }, wait);
    v.timer.unref();
  }

  private flushViewers(channel: string, v: ViewerState): void {
    if (v.pending === null) return;
    const body: ViewersEvent = { channel, viewers: v.pending };
    v.pending = null;
    v.lastSentAt = Date.now();
    this.toChannel(channel, 'viewers', JSON.stringify(body));
  }

  private dropViewers(channel: string): void {
    const v = this.viewers.get(channel);
    if (v?.timer) clearTimeout(v.timer);
    this.viewers.delete(channel);
  }
}

function addTo<K>(map: Map<K, Set<SseStream>>, key: K, s: SseStream): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(s);
}

function removeFrom<K>(map: Map<K, Set<SseStream>>, key: K, s: SseStream): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(s);
  if (set.size === 0) map.delete(key);
}
