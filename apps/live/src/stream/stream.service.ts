import type { Bus } from '@neon/bus';
import type { Client } from '@neon/kit';
import type { BroadcastManager } from '../broadcasts/broadcast-manager.js';
import type { ChannelRepository } from '../stream-keys/channel.repository.js';
import type { StreamKeyService } from '../stream-keys/stream-key.service.js';
import type { VideoRepository } from '../vod/video.repository.js';

export interface StreamServiceDeps {
  keys: StreamKeyService;
  channels: ChannelRepository;
  videos: VideoRepository;
  broadcasts: BroadcastManager;
  bus: Bus;
}

/** Where a title change that could not be announced is told (the request's logger). */
export interface WarnLog {
  warn(obj: object, msg: string): void;
}

/** A streamer's own stream: its title, whether set from the dashboard or by an application. */
export class StreamService {
  constructor(private readonly o: StreamServiceDeps) {}

  /**
   * Stores the title for the next broadcast and retitles the one that is live
   * (the row, the broadcast this replica holds, and `live.stream.updated.v1`).
   */
  async setTitle(owner: Client, title: string, log: WarnLog): Promise<void> {
    await this.o.keys.channelOf(owner);
    await this.o.channels.setTitle(owner.id, title);
    await this.o.videos.setTitleOfLive(owner.id, title);
    const b = this.o.broadcasts.get(owner.username);
    if (b) b.title = title;
    // Viewers of the channel page and the directory see the new title without reloading.
    const broadcastId = b?.id ?? (await this.o.videos.liveOf(owner.username))?.id;
    if (broadcastId)
      await this.o.bus
        .publish('live.stream.updated.v1', {
          broadcastId,
          channel: owner.username,
          userId: owner.id,
          title,
        })
        .catch((err: unknown) => log.warn({ err }, 'title change not announced'));
  }
}
