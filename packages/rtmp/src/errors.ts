/**
 * Stable codes of ingest protocol failures. A host closes the one connection
 * that produced one; the code goes to logs and metrics, never the peer's bytes.
 * Permanent once shipped.
 */
export const rtmpErrorCodes = [
  /** C0 asked for a protocol version other than plain RTMP (3). */
  'RTMP_HANDSHAKE_VERSION_UNSUPPORTED',
  /** Set Chunk Size of 0, with the reserved top bit set, or above the accepted maximum. */
  'RTMP_CHUNK_SIZE_INVALID',
  /** A chunk header that cannot be interpreted (a delta header on a chunk stream never opened). */
  'RTMP_CHUNK_HEADER_INVALID',
  /** A message declared longer than the accepted maximum. */
  'RTMP_MESSAGE_TOO_LARGE',
  /** Too many chunk streams opened, or too many carrying an unfinished message. */
  'RTMP_TOO_MANY_CHUNK_STREAMS',
  /** Unfinished messages would hold more bytes than a session may buffer. */
  'RTMP_BUFFER_LIMIT_EXCEEDED',
  /** A protocol control or user control message with a malformed body. */
  'RTMP_MESSAGE_INVALID',
  /** AMF0 bytes that do not decode: truncated, unknown marker, bad length. */
  'RTMP_AMF_INVALID',
  /** AMF0 values nested deeper than allowed. */
  'RTMP_AMF_TOO_DEEP',
  /** AMF0 message with more values than allowed. */
  'RTMP_AMF_TOO_MANY_ELEMENTS',
  /** An AMF0 value this server does not decode (AMF3 switch, reference, recordset). */
  'RTMP_AMF_UNSUPPORTED',
  /** A command out of order or with arguments of the wrong shape. */
  'RTMP_COMMAND_INVALID',
  /** A session listener threw; the session stops rather than continue in an unknown state. */
  'RTMP_INTERNAL',
  /** `checkTimeouts`: the handshake did not complete in time, however slowly bytes arrived. */
  'RTMP_HANDSHAKE_TIMEOUT',
  /** `checkTimeouts`: connected, but no publish command came in time. */
  'RTMP_PUBLISH_TIMEOUT',
  /** `checkTimeouts`: no bytes from the peer for too long. */
  'RTMP_IDLE_TIMEOUT',
  /** `connect` named an application the host does not serve (`apps`); the peer got `_error` first. */
  'RTMP_APP_REJECTED',
] as const;

export type RtmpErrorCode = (typeof rtmpErrorCodes)[number];

export class RtmpProtocolError extends Error {
  override readonly name = 'RtmpProtocolError';
  constructor(
    readonly code: RtmpErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isRtmpProtocolError(value: unknown): value is RtmpProtocolError {
  return value instanceof RtmpProtocolError;
}
