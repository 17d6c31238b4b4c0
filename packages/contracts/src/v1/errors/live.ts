/** Error codes of ingest, playback and VOD. Permanent once shipped. */
export const liveErrors = {
  LIVE_STREAM_KEY_INVALID: 403,
  LIVE_ALREADY_PUBLISHING: 409,
  LIVE_CHANNEL_NOT_FOUND: 404,
  LIVE_NOT_LIVE: 404,
  LIVE_VIDEO_NOT_FOUND: 404,
  LIVE_PLAYLIST_REQUEST_INVALID: 400,
  LIVE_PART_TOO_FAR: 400,
} as const;
