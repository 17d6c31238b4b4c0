import { env, type ConfigOf } from '@neon/kit';

export const liveSpec = {
  LIVE_HOST: env.string('127.0.0.1'),
  LIVE_PORT: env.port(8103),
  /** Where encoders connect: OBS and ffmpeg push to `rtmp://host:port/live/<stream key>`. */
  RTMP_HOST: env.string('0.0.0.0'),
  /** 0 picks a free port (tests); `rtmpPort()` on the service tells which. */
  RTMP_PORT: env.port(1935),
  /** The RTMP URL shown to streamers; defaults to PUBLIC_URL's host on RTMP_PORT. */
  RTMP_PUBLIC_URL: env.url(),
  FFMPEG_PATH: env.string('ffmpeg'),
  /** Segments, playlists and thumbnails of every broadcast; defaults to `<DATA_DIR>/media`. */
  MEDIA_DIR: env.optionalString(),
  /** How long a dropped publisher may take to come back and continue the same broadcast. */
  RECONNECT_GRACE_SECONDS: env.int(10, 0, 600),
  /**
   * After a clean end (the publisher stopped, the owner ended it, the key was
   * regenerated), how long the playlists stay answered, closed with
   * EXT-X-ENDLIST, and the media they list fetchable, so players show the end
   * rather than an error. A dropped publisher (grace window) is not a clean end. 0: 404 at once.
   */
  LIVE_ENDED_PLAYLIST_SECONDS: env.int(30, 0, 600),
  /**
   * When a broadcast ends, how long the transcode ladder may take to finish its
   * backlog before it is stopped; the recording (source and audio, in a process
   * of its own) is always drained to the end. A rung cut short is left out of the VOD.
   */
  LIVE_LADDER_DRAIN_MS: env.int(60_000, 0, 600_000),
  /**
   * Shedding: a transcode ladder slower than LIVE_SHED_MIN_SPEED_PERCENT of
   * real time over 10 s, or more than LIVE_SHED_MAX_BACKLOG_MS behind its
   * input, is restarted without its highest rung (the source copy and the
   * lowest rung always stay). A rung comes back after LIVE_SHED_RESTORE_AFTER_MS
   * on time (doubling with each shed of the broadcast, up to 16×) when the
   * machine's idle cores cover its estimated cost by LIVE_SHED_RESTORE_HEADROOM_PERCENT.
   */
  LIVE_SHED: env.bool(true),
  LIVE_SHED_MIN_SPEED_PERCENT: env.int(95, 1, 100),
  LIVE_SHED_MAX_BACKLOG_MS: env.int(3000, 500, 600_000),
  LIVE_SHED_RESTORE_AFTER_MS: env.int(60_000, 1000, 3_600_000),
  LIVE_SHED_RESTORE_HEADROOM_PERCENT: env.int(130, 100, 1000),
  /**
   * Admission: new broadcasts are refused (LIVE_CAPACITY_FULL, /readyz 503)
   * while the measured CPU cost of this replica's broadcasts reaches
   * LIVE_CAPACITY_CORES (0: the machine's cores) × LIVE_CAPACITY_PERCENT, or
   * one of them is behind even with its ladder shed to the lowest rung.
   */
  LIVE_CAPACITY_CORES: env.int(0, 0, 4096),
  LIVE_CAPACITY_PERCENT: env.int(80, 1, 1000),
  /**
   * After one of its broadcasts was last behind real time at the lowest rung,
   * the replica stays full this long: a saturated machine has calm moments,
   * and a broadcast admitted in one of them makes every other one late.
   */
  LIVE_CAPACITY_HOLD_MS: env.int(30_000, 0, 600_000),
  /** LL-HLS part target; players hold back three parts, so it sets most of the latency. */
  HLS_PART_TARGET_MS: env.int(200, 100, 1000),
  /** An RTMP peer must finish the handshake this soon after connecting. */
  RTMP_HANDSHAKE_TIMEOUT_MS: env.int(10_000, 500, 120_000),
  /**
   * A connection with no accepted publish this long after it opened is closed,
   * however busy it keeps itself (encoders publish within a second).
   */
  RTMP_PUBLISH_TIMEOUT_MS: env.int(10_000, 500, 120_000),
  /**
   * A new publish with the channel's key replaces the current publisher once
   * that one has sent no media for this long (a frozen encoder with its TCP
   * connection still open); before that, the new publish is refused.
   */
  INGEST_TAKEOVER_SILENCE_MS: env.int(2000, 0, 600_000),
  /** A publisher that sends no media for this long ends its broadcast. */
  INGEST_STALL_END_MS: env.int(5000, 1000, 600_000),
  /**
   * Connections without an accepted publish, per address (IPv6 per /64) and
   * in total; more are closed as they open. A publishing connection does not count.
   */
  RTMP_MAX_PENDING_PER_ADDRESS: env.int(4, 1, 10_000),
  RTMP_MAX_PENDING_CONNECTIONS: env.int(128, 1, 100_000),
  /**
   * Wrong stream keys from one address (IPv6 per /64): five a minute are free,
   * then each imposes a wait of 10 s doubling up to this. 0 turns it off.
   */
  RTMP_PUBLISH_BACKOFF_MAX_SECONDS: env.int(300, 0, 86_400),
  /** Default ingest limits (a user's entitlements may raise them later). */
  INGEST_MAX_WIDTH: env.int(1920, 16, 7680),
  INGEST_MAX_HEIGHT: env.int(1080, 16, 4320),
  INGEST_MAX_BITRATE_KBPS: env.int(8000, 100, 100_000),
  /**
   * Encrypts stream keys at rest so their owner can read them back. Replicas
   * must share it; unset, a key file under `<DATA_DIR>/live/` is created once.
   */
  STREAM_KEY_SECRET: env.optionalString(),
  /**
   * Object storage for recordings: with S3_BUCKET set, every broadcast's
   * segments are uploaded to it as they complete, its playlists and
   * thumbnail when it ends, and the local copy is removed once all of it is
   * there; VOD is then served from the bucket through this origin. Unset:
   * recordings stay in MEDIA_DIR. Without S3_ACCESS_KEY_ID the SDK's usual
   * credential chain applies (environment, instance role…).
   */
  S3_BUCKET: env.optionalString(),
  /** An S3-protocol server other than AWS (MinIO, Ceph…); unset: AWS for S3_REGION. */
  S3_ENDPOINT: env.url(),
  S3_REGION: env.string('us-east-1'),
  S3_ACCESS_KEY_ID: env.optionalString(),
  S3_SECRET_ACCESS_KEY: env.optionalString(),
  /** Path-style addressing (`endpoint/bucket/key`), which most self-hosted servers need. */
  S3_FORCE_PATH_STYLE: env.bool(false),
  /** Object keys start with this (`<prefix>videos/<id>/…`); lets buckets be shared. */
  S3_PREFIX: env.optionalString(),
  /** How often completed segments are looked for and uploaded while live. */
  S3_UPLOAD_INTERVAL_MS: env.int(2000, 100, 600_000),
  /** Memory for VOD files read from the bucket, so a popular video is fetched once per replica. */
  VOD_CACHE_MB: env.int(64, 0, 65_536),
  /**
   * Recordings ended longer ago than this are deleted (rows, bucket objects,
   * local files), except those their owner keeps. 0 keeps every recording.
   */
  VOD_RETENTION_DAYS: env.int(0, 0, 36_500),
  /**
   * This replica's internal URL as the gateway's LIVE_URL names it: with
   * Redis, replicas record which of them holds each channel's broadcast, and
   * gateways route its playlists and media there. Defaults to
   * `http://LIVE_HOST:LIVE_PORT`, which is only right when that is reachable.
   */
  LIVE_ADVERTISE_URL: env.url(),
  /**
   * A replica's claim on a channel lapses this long after it last renewed it
   * (every third of it): how soon another replica may carry a channel whose
   * replica died.
   */
  LIVE_HOLDER_LEASE_MS: env.int(10_000, 1000, 600_000),
  /** A player counts as watching for this long after its last playlist request. */
  VIEWER_WINDOW_SECONDS: env.int(30, 1, 3600),
  /** Minimum spacing of `live.viewers.updated.v1` per channel. */
  VIEWER_PUBLISH_INTERVAL_SECONDS: env.int(5, 1, 3600),
};

export type LiveConfig = ConfigOf<typeof liveSpec>;
