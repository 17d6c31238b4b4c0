import { createServer, type Server, type Socket } from 'node:net';
import {
  AudioCodecId,
  FlvTagType,
  RtmpServerSession,
  VideoCodecId,
  flvHeader,
  flvTag,
  type FlvTagData,
  type RtmpPublishRequest,
  type RtmpTimeouts,
  type StreamMetadata,
} from '@neon/rtmp';
import type { Logger } from '@neon/kit';
import type { Broadcast, Publisher } from '../broadcasts/broadcast.js';
import type { BroadcastManager } from '../broadcasts/broadcast-manager.js';
import { bitrateExceeded } from '../broadcasts/ingest-limits.js';
import type { SourceMeta } from '../broadcasts/pipeline.js';
import type { StreamKeyService } from '../stream-keys/stream-key.service.js';
import { PendingAdmission, type PendingLimits, type PendingTicket } from './admission.js';
import { PublishBackoff } from './publish-backoff.js';

export interface RtmpIngestOptions {
  logger: Logger;
  keys: StreamKeyService;
  broadcasts: BroadcastManager;
  /** Simultaneous connections (publishing or not); more are closed at once. */
  maxConnections?: number;
  /** Caps on connections without an accepted publish; more are closed at once. */
  pending?: Partial<PendingLimits>;
  /** The longest wait imposed on an address that keeps sending wrong stream keys; 0: none. */
  publishBackoffMaxMs?: number;
  timeouts?: Partial<RtmpTimeouts>;
}

/** After this long publishing, a measured bitrate above the limit by this factor ends the stream. */
const BITRATE_GRACE_MS = 5000;
const BITRATE_TOLERANCE = 1.5;

function codecName(id: number | string | undefined, names: Record<number, string>): string | null {
  if (id === undefined) return null;
  if (typeof id === 'string') return id.toLowerCase();
  return names[id] ?? String(id);
}

const VIDEO_NAMES: Record<number, string> = { [VideoCodecId.AVC]: 'h264' };
const AUDIO_NAMES: Record<number, string> = {
  [AudioCodecId.AAC]: 'aac',
  [AudioCodecId.MP3]: 'mp3',
};

export function sourceFromMetadata(m: StreamMetadata | null): SourceMeta {
  const num = (v: number | undefined) =>
    typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
  return {
    width: num(m?.width),
    height: num(m?.height),
    fps: num(m?.framerate),
    videoCodec: codecName(m?.videocodecid, VIDEO_NAMES),
    audioCodec: codecName(m?.audiocodecid, AUDIO_NAMES),
    videoBitrateKbps: num(m?.videodatarate),
    audioBitrateKbps: num(m?.audiodatarate),
  };
}

/**
 * One RTMP connection: bytes from the socket into the protocol engine, its
 * replies back, and an accepted publish turned into FLV for the broadcast.
 */
class IngestConnection implements Publisher {
  private readonly session: RtmpServerSession;
  private broadcast: Broadcast | null = null;
  private metadata: StreamMetadata | null = null;
  private metadataTag: FlvTagData | null = null;
  private source: SourceMeta = sourceFromMetadata(null);
  private headerWritten = false;
  private publishingSince = 0;
  private lastBitrateCheck = 0;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly o: RtmpIngestOptions,
    private readonly log: Logger,
    /** Counts this connection among those not publishing, until its publish is accepted. */
    private readonly pendingTicket: PendingTicket,
    private readonly backoff: PublishBackoff,
  ) {
    socket.setNoDelay(true);
    this.session = new RtmpServerSession({
      send: (bytes) => void this.write(bytes),
      // Encoders push to rtmp://host/live/<key>; any other application is a mistake or a probe.
      apps: ['live'],
      ...(o.timeouts ? { timeouts: o.timeouts } : {}),
    });
    this.session.on('error', (err) => {
      if (err.code === 'RTMP_APP_REJECTED') {
        // The _error answer is on its way: let it reach the peer before closing.
        this.log.info({ code: err.code }, 'RTMP connect refused: unknown application');
        return this.closeSoon();
      }
      this.log.warn({ code: err.code }, 'RTMP connection closed on a protocol error');
      this.close();
    });
    this.session.on('publish', (req) => void this.onPublish(req));
    this.session.on('metadata', (e) => {
      this.metadata = e.metadata;
      this.metadataTag = e.tag;
      this.source = { ...sourceFromMetadata(e.metadata), ...this.knownCodecs() };
      if (this.broadcast) {
        const over = this.o.broadcasts.checkLimits(this.source);
        if (over) return this.o.broadcasts.disconnect(this.broadcast, this, over);
        this.forward(e.tag, false);
      }
    });
    this.session.on('video', (e) => {
      if (!this.source.videoCodec)
        this.source.videoCodec = codecName(e.info.fourCc ?? e.info.codecId, VIDEO_NAMES);
      this.forward(e.tag, !e.info.sequenceHeader);
    });
    this.session.on('audio', (e) => {
      if (!this.source.audioCodec) this.source.audioCodec = codecName(e.info.codecId, AUDIO_NAMES);
      this.forward(e.tag, false);
    });
    // FCUnpublish / deleteStream / closeStream: the streamer stopped on purpose (no grace window).
    this.session.on('unpublish', (e) => this.releaseBroadcast(e.reason !== 'disconnect'));
    socket.on('data', (chunk: Buffer) => {
      this.session.feed(chunk);
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    this.timer = setInterval(() => this.checkTimeouts(), 1000);
    this.timer.unref();
  }

  private knownCodecs(): Partial<SourceMeta> {
    const out: Partial<SourceMeta> = {};
    if (this.source.videoCodec && !this.metadata?.videocodecid)
      out.videoCodec = this.source.videoCodec;
    if (this.source.audioCodec && !this.metadata?.audiocodecid)
      out.audioCodec = this.source.audioCodec;
    return out;
  }

  private write(bytes: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  private checkTimeouts(): void {
    // The session's deadlines count from the connection's start, so a peer
    // dribbling one byte at a time is cut off as surely as a silent one; the
    // session reports the miss through its 'error' event, which closes us.
    this.session.checkTimeouts();
  }

  private async onPublish(req: RtmpPublishRequest): Promise<void> {
    const remote = this.socket.remoteAddress;
    const wait = this.backoff.waitMs(remote);
    if (wait > 0) {
      // The key is not even looked at: a guess made while waiting tells nothing.
      this.log.info({ code: 'LIVE_PUBLISH_BACKED_OFF', waitMs: wait }, 'publish refused');
      req.reject({
        status: 'NetStream.Publish.Denied',
        description: `Too many wrong stream keys from this address: try again in ${Math.ceil(wait / 1000)} s. (LIVE_PUBLISH_BACKED_OFF)`,
      });
      return this.closeSoon();
    }
    let channel;
    try {
      channel = await this.o.keys.resolve(req.streamKey);
    } catch (err) {
      this.log.error({ err }, 'stream key lookup failed');
      req.reject({ status: 'NetStream.Publish.Denied', description: 'Try again later.' });
      return this.closeSoon();
    }
    if (!channel || req.app !== 'live') {
      const waitMs = this.backoff.failed(remote);
      this.log.info(
        {
          app: req.app,
          code: 'LIVE_STREAM_KEY_INVALID',
          ...(waitMs > 0 ? { backoffMs: waitMs } : {}),
        },
        'publish refused',
      );
      req.reject({ status: 'NetStream.Publish.BadName', description: 'Unknown stream key.' });
      return this.closeSoon();
    }
    const log = this.log.child({ channel: channel.username });
    if (channel.suspended) {
      log.info({ code: 'LIVE_ACCOUNT_SUSPENDED' }, 'publish refused');
      req.reject({
        status: 'NetStream.Publish.Denied',
        description: 'This account is suspended. (LIVE_ACCOUNT_SUSPENDED)',
      });
      return this.closeSoon();
    }
    const result = await this.o.broadcasts.publish(
      { userId: channel.user_id, username: channel.username, title: channel.title },
      this,
    );
    if (!result.ok) {
      log.info({ code: result.code }, 'publish refused');
      req.reject(
        result.code === 'LIVE_CAPACITY_FULL'
          ? {
              // Denied, not BadName: the key is good, and another replica (or a retry) may have room.
              status: 'NetStream.Publish.Denied',
              description:
                'This ingest server is at its transcoding capacity: try again later. (LIVE_CAPACITY_FULL)',
            }
          : {
              status: 'NetStream.Publish.BadName',
              description:
                result.code === 'LIVE_ALREADY_PUBLISHING'
                  ? 'This channel is already live from another encoder.'
                  : 'Ingest unavailable.',
            },
      );
      return this.closeSoon();
    }
    if (this.closed || !req.accept()) {
      this.o.broadcasts.publisherGone(result.broadcast, this);
      return;
    }
    this.pendingTicket.release();
    this.broadcast = result.broadcast;
    // A returning publisher continues the broadcast's FLV stream: the pipeline keeps the
    // stream's header and replays the new sequence headers to its next ffmpeg.
    this.headerWritten = result.resumed;
    this.publishingSince = Date.now();
    const over = this.metadata ? this.o.broadcasts.checkLimits(this.source) : null;
    if (over) return this.o.broadcasts.disconnect(result.broadcast, this, over);
    log.info({ broadcastId: result.broadcast.id }, 'publishing');
  }

  private forward(tag: FlvTagData, isFrame: boolean): void {
    const b = this.broadcast;
    if (!b) return;
    const parts: Buffer[] = [];
    if (!this.headerWritten) {
      this.headerWritten = true;
      const hasAudio = this.metadata ? this.metadata.audiocodecid !== undefined : true;
      const hasVideo = this.metadata ? this.metadata.videocodecid !== undefined : true;
      parts.push(flvHeader({ audio: hasAudio, video: hasVideo }));
      if (this.metadataTag && tag.type !== FlvTagType.Script) {
        // The metadata came before the key was checked: give it to the pipeline first.
        parts.push(flvTag(FlvTagType.Script, 0, this.metadataTag.payload));
      }
    }
    parts.push(flvTag(tag.type, tag.timestamp, tag.payload));
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    b.countBytes(tag.payload.length, isFrame && tag.type === FlvTagType.Video);
    this.o.broadcasts.write(b, bytes, this.source);
    this.checkBitrate(b);
  }

  private checkBitrate(b: Broadcast): void {
    const now = Date.now();
    if (now - this.publishingSince < BITRATE_GRACE_MS || now - this.lastBitrateCheck < 1000) return;
    this.lastBitrateCheck = now;
    const stats = b.stats(now);
    const max = this.o.broadcasts.limits.maxBitrateKbps;
    if (stats && stats.bitrateKbps > max * BITRATE_TOLERANCE)
      this.o.broadcasts.disconnect(b, this, bitrateExceeded(stats.bitrateKbps, max));
  }

  private releaseBroadcast(unpublished = false): void {
    const b = this.broadcast;
    this.broadcast = null;
    if (b) this.o.broadcasts.publisherGone(b, this, unpublished);
  }

  kick(reason: string): void {
    this.log.info({ reason }, 'publisher disconnected by the server');
    this.close();
  }

  /** Lets the error status reach the encoder before the connection closes. */
  private closeSoon(): void {
    if (this.closed) return;
    this.socket.end();
    setTimeout(() => this.close(), 2000).unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pendingTicket.release();
    clearInterval(this.timer);
    this.session.end();
    this.releaseBroadcast();
    this.socket.destroy();
  }
}

/** The RTMP listener: one IngestConnection per socket, each failing alone. */
export class RtmpIngestServer {
  private server: Server | null = null;
  private readonly connections = new Set<IngestConnection>();
  private nextId = 1;
  private readonly admission: PendingAdmission;
  private readonly backoff: PublishBackoff;
  /** Refused connections since the last warning: one line per interval, not one per attempt. */
  private refused = 0;
  private lastRefusalLog = 0;

  constructor(private readonly o: RtmpIngestOptions) {
    this.admission = new PendingAdmission({
      perAddress: o.pending?.perAddress ?? 4,
      total: o.pending?.total ?? 128,
    });
    this.backoff = new PublishBackoff({ maxWaitMs: o.publishBackoffMaxMs ?? 300_000 });
  }

  /** Connections open that have no accepted publish yet. */
  get pendingConnections(): number {
    return this.admission.pending;
  }

  private noteRefusal(reason: string, remote: string | undefined): void {
    this.refused++;
    const now = Date.now();
    if (now - this.lastRefusalLog < 10_000) return;
    this.o.logger.warn(
      { reason, remote, refused: this.refused },
      'RTMP connections refused: too many without a publish',
    );
    this.refused = 0;
    this.lastRefusalLog = now;
  }

  port(): number | null {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : null;
  }

  async listen(host: string, port: number): Promise<void> {
    const max = this.o.maxConnections ?? 256;
    const server = createServer((socket) => {
      if (this.connections.size >= max) {
        socket.destroy();
        return;
      }
      const admitted = this.admission.admit(socket.remoteAddress);
      if (!admitted.ok) {
        this.noteRefusal(
          admitted.reason === 'address' ? 'per-address cap' : 'global cap',
          socket.remoteAddress,
        );
        socket.destroy();
        return;
      }
      const log = this.o.logger.child({
        rtmpConnection: this.nextId++,
        remote: socket.remoteAddress,
      });
      const conn = new IngestConnection(socket, this.o, log, admitted.ticket, this.backoff);
      this.connections.add(conn);
      socket.once('close', () => this.connections.delete(conn));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    const closing = server ? new Promise<void>((resolve) => server.close(() => resolve())) : null;
    for (const c of this.connections) c.close();
    this.connections.clear();
    await closing;
  }
}
