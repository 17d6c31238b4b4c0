import Type, { type Static } from 'typebox';

export const StreamKeyResponse = Type.Object({
  streamKey: Type.String(),
  /** Where to point OBS: `rtmp://host:1935/live` (the key goes in OBS's own field). */
  rtmpUrl: Type.String(),
});
export type StreamKeyResponse = Static<typeof StreamKeyResponse>;

/**
 * Why the server closed a publisher's connection (logged with the code; the
 * owner's dashboard shows the last one). Permanent once shipped.
 */
export const IngestDisconnectCode = Type.Union([
  /** A new publish with the stream key took over from an encoder that had stopped sending. */
  Type.Literal('LIVE_PUBLISHER_REPLACED'),
  /** The encoder kept the connection open but sent no media: the broadcast ended. */
  Type.Literal('LIVE_INGEST_STALLED'),
  /** The encoder sent more than the ingest bitrate limit allows. */
  Type.Literal('LIVE_INGEST_BITRATE_EXCEEDED'),
  /** The encoder's picture is larger than the ingest resolution limit. */
  Type.Literal('LIVE_INGEST_RESOLUTION_EXCEEDED'),
  /** An admin suspended the account: the broadcast ended, and no publish starts until lifted. */
  Type.Literal('LIVE_ACCOUNT_SUSPENDED'),
]);
export type IngestDisconnectCode = Static<typeof IngestDisconnectCode>;

/** The last time the server closed a channel's publisher, and why. */
export const IngestDisconnect = Type.Object({
  at: Type.String(),
  code: IngestDisconnectCode,
  /** For the log and support; clients build their own sentence from the code and figures. */
  reason: Type.String(),
  /** The ingest bitrate limit, when the bitrate was the reason. */
  limitKbps: Type.Optional(Type.Number()),
  /** The bitrate the encoder announced or was measured sending, when the bitrate was the reason. */
  measuredKbps: Type.Optional(Type.Number()),
});
export type IngestDisconnect = Static<typeof IngestDisconnect>;

/**
 * Whether this replica's transcoder keeps up with the broadcast: `good` (the
 * whole ladder at real time), `degraded` (qualities turned off so that the
 * rest stays live), `failing` (behind real time even with only the lowest
 * quality left).
 */
export const IngestHealthState = Type.Union([
  Type.Literal('good'),
  Type.Literal('degraded'),
  Type.Literal('failing'),
]);
export type IngestHealthState = Static<typeof IngestHealthState>;

/** What the streamer can do about it; clients build the sentence. */
export const IngestAdvice = Type.Object({
  /** Send a picture at most this tall (`lower_resolution`). */
  action: Type.Literal('lower_resolution'),
  height: Type.Integer(),
});
export type IngestAdvice = Static<typeof IngestAdvice>;

export const IngestHealth = Type.Object({
  state: IngestHealthState,
  /** Media seconds transcoded per wall second over ~10 s (1 = real time); null until measured. */
  speed: Type.Union([Type.Number(), Type.Null()]),
  /** Qualities turned off to keep up (rendition names, most expensive first). */
  droppedRungs: Type.Array(Type.String()),
  advice: Type.Union([IngestAdvice, Type.Null()]),
  /** This replica refuses new broadcasts: its measured load is at its capacity. */
  replicaFull: Type.Boolean(),
});
export type IngestHealth = Static<typeof IngestHealth>;

/** The owner's stream settings and what the ingest sees right now. */
export const StreamSettings = Type.Object({
  title: Type.String(),
  live: Type.Boolean(),
  broadcastId: Type.Union([Type.String(), Type.Null()]),
  ingest: Type.Union([
    Type.Object({
      width: Type.Integer(),
      height: Type.Integer(),
      fps: Type.Number(),
      videoCodec: Type.String(),
      audioCodec: Type.Union([Type.String(), Type.Null()]),
      bitrateKbps: Type.Number(),
      startedAt: Type.String(),
      health: IngestHealth,
    }),
    Type.Null(),
  ]),
  /** Null until the server has closed one of this channel's publishers (since it started). */
  lastDisconnect: Type.Union([IngestDisconnect, Type.Null()]),
});
export type StreamSettings = Static<typeof StreamSettings>;

export const UpdateStreamRequest = Type.Object(
  { title: Type.String({ minLength: 1, maxLength: 140 }) },
  { additionalProperties: false },
);
export type UpdateStreamRequest = Static<typeof UpdateStreamRequest>;

export const Rendition = Type.Object({
  name: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  bitrateKbps: Type.Number(),
});
export type Rendition = Static<typeof Rendition>;

/** A channel live now, as the directory lists it. */
export const LiveStream = Type.Object({
  broadcastId: Type.String(),
  channel: Type.String(),
  userId: Type.String(),
  title: Type.String(),
  viewers: Type.Integer({ minimum: 0 }),
  startedAt: Type.String(),
  thumbnailUrl: Type.Union([Type.String(), Type.Null()]),
  hlsUrl: Type.String(),
  dashUrl: Type.String(),
  renditions: Type.Array(Rendition),
});
export type LiveStream = Static<typeof LiveStream>;

export const LiveStreamList = Type.Object({ items: Type.Array(LiveStream) });
export type LiveStreamList = Static<typeof LiveStreamList>;

/** A past broadcast kept as VOD. */
export const Video = Type.Object({
  id: Type.String(),
  channel: Type.String(),
  title: Type.String(),
  startedAt: Type.String(),
  durationSeconds: Type.Number(),
  thumbnailUrl: Type.Union([Type.String(), Type.Null()]),
  playlistUrl: Type.String(),
  /** The owner keeps it past the deployment's retention period. */
  keep: Type.Boolean(),
  /** When retention deletes it; null when it is kept or the deployment keeps every recording. */
  expiresAt: Type.Union([Type.String(), Type.Null()]),
});
export type Video = Static<typeof Video>;

/** The owner renames a recording, or keeps it from retention (at least one of the two). */
export const UpdateVideoRequest = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 160 })),
    keep: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateVideoRequest = Static<typeof UpdateVideoRequest>;

export const VideoList = Type.Object({ items: Type.Array(Video) });
export type VideoList = Static<typeof VideoList>;

/** `GET /api/v1/channels/:username/stream`: the channel's live state for the player. */
export const ChannelStream = Type.Object({
  channel: Type.String(),
  live: Type.Boolean(),
  stream: Type.Union([LiveStream, Type.Null()]),
});
export type ChannelStream = Static<typeof ChannelStream>;

/**
 * Which live replica holds which channel's broadcast: a Redis hash (field:
 * channel) that live replicas write under a lease and gateways read to route
 * `/hls/<channel>/…` and `/dash/<channel>/…` to the holder. A change is
 * announced on the channel of the same name, its message the channel name.
 */
export const LIVE_HOLDERS_KEY = 'neon:live:holders';

/** One entry of `LIVE_HOLDERS_KEY`. */
export interface LiveHolder {
  /** The holder's internal URL, as the gateway's LIVE_URL names it. */
  replica: string;
  broadcastId: string;
  /** Milliseconds since the epoch (Redis's clock) when the lease runs out. */
  until: number;
}

/** An entry as stored, or null when it is not one. */
export function parseLiveHolder(value: string | null | undefined): LiveHolder | null {
  if (!value) return null;
  try {
    const v = JSON.parse(value) as Partial<LiveHolder>;
    return typeof v.replica === 'string' &&
      typeof v.broadcastId === 'string' &&
      typeof v.until === 'number'
      ? { replica: v.replica, broadcastId: v.broadcastId, until: v.until }
      : null;
  } catch {
    return null;
  }
}
