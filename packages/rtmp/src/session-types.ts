import { defaultAmfDecodeLimits, type AmfDecodeLimits, type AmfObject } from './amf0.js';
import { defaultChunkLimits, type ChunkLimits } from './chunk.js';
import type { RtmpProtocolError } from './errors.js';
import type { AudioTagInfo, FlvTagData, VideoTagInfo } from './flv.js';

// The session's public vocabulary: message ids, limits, options and events.

/** RTMP message type ids. */
export const MessageType = {
  SetChunkSize: 1,
  Abort: 2,
  Acknowledgement: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  DataAmf3: 15,
  SharedObjectAmf3: 16,
  CommandAmf3: 17,
  DataAmf0: 18,
  SharedObjectAmf0: 19,
  CommandAmf0: 20,
  Aggregate: 22,
} as const;

export const UserControlEvent = {
  StreamBegin: 0,
  StreamEof: 1,
  StreamDry: 2,
  SetBufferLength: 3,
  StreamIsRecorded: 4,
  PingRequest: 6,
  PingResponse: 7,
} as const;

/**
 * How long a connection may take to complete the handshake, counted from its
 * start (a peer dribbling one byte every few seconds must not hold a socket
 * forever): the default of `timeouts.handshakeMs`.
 */
export const RECOMMENDED_HANDSHAKE_TIMEOUT_MS = 10_000;
/** No bytes from the peer for this long ends the connection: the default of `timeouts.idleMs`. */
export const RECOMMENDED_IDLE_TIMEOUT_MS = 30_000;
/**
 * From the connection's start to an accepted publish: the default of
 * `timeouts.publishMs`. An encoder needs well under a second.
 */
export const RECOMMENDED_PUBLISH_TIMEOUT_MS = 10_000;

export interface RtmpTimeouts {
  handshakeMs: number;
  publishMs: number;
  idleMs: number;
}

export interface RtmpLimits extends ChunkLimits, AmfDecodeLimits {
  /** createStream calls honoured per connection. */
  maxStreams: number;
}

export const defaultRtmpLimits: RtmpLimits = {
  ...defaultChunkLimits,
  ...defaultAmfDecodeLimits,
  maxStreams: 8,
};

export interface RtmpSessionOptions {
  /** Writes bytes to the peer. Called synchronously from `feed`, `accept` and `reject`. */
  send: (bytes: Buffer) => void;
  limits?: Partial<RtmpLimits>;
  /**
   * Chunk limits that replace `limits` until a publish is accepted (message
   * length and unfinished bytes: 64 KiB each by default,
   * `RECOMMENDED_PRE_PUBLISH_LIMITS`). `null` applies `limits` from the start.
   */
  prePublishLimits?: Partial<ChunkLimits> | null;
  /** Chunk size announced to the peer after connect (and used for what we send). */
  chunkSize?: number;
  /** Window Acknowledgement Size announced to the peer (bytes between its acknowledgements). */
  windowAckSize?: number;
  /** Set Peer Bandwidth announced to the peer. */
  peerBandwidth?: number;
  /** Fills S1's random bytes; tests pass a deterministic one. */
  randomFill?: (buf: Buffer) => void;
  /**
   * Application names served (the first path segment of the RTMP URL). A
   * connect to any other gets `_error` NetConnection.Connect.Rejected and the
   * session stops with RTMP_APP_REJECTED. Unset: every name is accepted.
   */
  apps?: readonly string[];
  /** Deadlines enforced by `checkTimeouts()`. */
  timeouts?: Partial<RtmpTimeouts>;
  /** Clock for the deadlines (ms); `Date.now` unless a test drives time. */
  now?: () => number;
}

export interface RtmpConnectEvent {
  app: string;
  tcUrl?: string;
  flashVer?: string;
  /** Every property of the connect command object, as sent. */
  properties: AmfObject;
}

export type PublishRejectStatus = 'NetStream.Publish.BadName' | 'NetStream.Publish.Denied';

export interface RtmpPublishRequest {
  app: string;
  /** The publish name without any `?query`: the stream key. A secret: never log it. */
  streamKey: string;
  /** What followed `?` in the publish name ('' when nothing). */
  query: string;
  /** 'live' (what encoders send), 'record' or 'append'. */
  publishType: string;
  streamId: number;
  /** Starts the stream: onStatus NetStream.Publish.Start. False when the session is gone or already decided. */
  accept(): boolean;
  /**
   * Refuses it: onStatus error (BadName by default, which makes encoders stop
   * retrying). The host then closes the connection.
   */
  reject(options?: { status?: PublishRejectStatus; description?: string }): boolean;
}

export interface StreamMetadata {
  width?: number;
  height?: number;
  framerate?: number;
  /** 7 (AVC) from ffmpeg and OBS; some encoders send a FourCC string. */
  videocodecid?: number | string;
  /** 10 (AAC) from ffmpeg and OBS. */
  audiocodecid?: number | string;
  /** kbit/s. */
  videodatarate?: number;
  /** kbit/s. */
  audiodatarate?: number;
  audiosamplerate?: number;
  audiosamplesize?: number;
  audiochannels?: number;
  stereo?: boolean;
  duration?: number;
  encoder?: string;
  /** Every property as sent. */
  properties: AmfObject;
}

export interface RtmpMetadataEvent {
  streamId: number;
  metadata: StreamMetadata;
  /** An `onMetaData` script tag for the FLV stream. */
  tag: FlvTagData;
}

export interface RtmpVideoEvent {
  streamId: number;
  tag: FlvTagData;
  info: VideoTagInfo;
}

export interface RtmpAudioEvent {
  streamId: number;
  tag: FlvTagData;
  info: AudioTagInfo;
}

export type UnpublishReason = 'FCUnpublish' | 'deleteStream' | 'closeStream' | 'disconnect';

export interface RtmpUnpublishEvent {
  streamId: number;
  reason: UnpublishReason;
}

export interface RtmpSessionEventMap {
  connect: RtmpConnectEvent;
  publish: RtmpPublishRequest;
  metadata: RtmpMetadataEvent;
  video: RtmpVideoEvent;
  audio: RtmpAudioEvent;
  unpublish: RtmpUnpublishEvent;
  /** A PingResponse to `ping()`: the timestamp it carried. */
  pong: { timestamp: number };
  /** The session has stopped; the host closes the connection. */
  error: RtmpProtocolError;
}

export type RtmpSessionPhase = 'handshake' | 'open' | 'rejected' | 'failed' | 'closed';
