import { RtmpProtocolError } from './errors.js';

/** One reassembled RTMP message. */
export interface RtmpMessage {
  /** Chunk stream it arrived on. */
  csid: number;
  typeId: number;
  /** Message stream id (0 = the connection itself). */
  streamId: number;
  /** Milliseconds, 32-bit. */
  timestamp: number;
  /**
   * Body. May share memory with a buffer passed to `feed` (no copy when a
   * message arrives whole in one chunk): read it, keep it, never write to it.
   */
  payload: Buffer;
}

export interface ChunkLimits {
  /** Largest Set Chunk Size accepted from the peer. */
  maxChunkSize: number;
  /** Largest message length accepted. */
  maxMessageLength: number;
  /** Distinct chunk stream ids a peer may open. */
  maxChunkStreams: number;
  /** Chunk streams that may carry an unfinished message at once. */
  maxChunkStreamsInFlight: number;
  /** Sum of the lengths of unfinished messages (what the session must hold). */
  maxBufferedBytes: number;
}

export const defaultChunkLimits: ChunkLimits = {
  maxChunkSize: 65536,
  maxMessageLength: 8 * 1024 * 1024,
  maxChunkStreams: 64,
  maxChunkStreamsInFlight: 16,
  maxBufferedBytes: 16 * 1024 * 1024,
};

/**
 * What a connection may hold before its publish is accepted: the handshake
 * and a few commands take a few hundred bytes each, so nobody without a
 * stream key gets to make the server hold megabytes.
 */
export const RECOMMENDED_PRE_PUBLISH_LIMITS: Readonly<Partial<ChunkLimits>> = {
  maxMessageLength: 64 * 1024,
  maxBufferedBytes: 64 * 1024,
};

/** RTMP's default chunk size before either side sends Set Chunk Size. */
export const DEFAULT_CHUNK_SIZE = 128;
const MAX_HEADER = 18; // 3 basic + 11 message header + 4 extended timestamp

class ChunkStream {
  timestamp = 0;
  /** Last timestamp field: an absolute value after type 0, a delta after type 1/2. */
  field = 0;
  /** The last header carried an extended timestamp (field was 0xFFFFFF). */
  extended = false;
  length = 0;
  typeId = 0;
  streamId = 0;
  /** Unfinished message: its buffer and how much of it is filled. */
  buf: Buffer | null = null;
  filled = 0;
  constructor(readonly csid: number) {}
}

/**
 * Reassembles RTMP messages from the chunk stream. Keeps no more than one
 * partial header (18 bytes) between calls; payload bytes go straight into
 * the message they belong to.
 */
export class ChunkDecoder {
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly streams = new Map<number, ChunkStream>();
  private readonly stash = Buffer.allocUnsafe(MAX_HEADER);
  private stashLen = 0;
  /** Stream whose chunk payload is being read, and how much of that chunk remains. */
  private current: ChunkStream | null = null;
  private chunkRemaining = 0;
  private inFlight = 0;
  private inFlightBytes = 0;
  private closed = false;

  constructor(
    private limits: ChunkLimits,
    private readonly onMessage: (message: RtmpMessage) => void,
  ) {}

  /**
   * Replaces the limits from the next chunk on. Unfinished messages already
   * admitted stay; every later header and allocation is checked against these.
   */
  setLimits(limits: ChunkLimits): void {
    this.limits = limits;
  }

  /** Bytes held for unfinished messages and a partial header. */
  get bufferedBytes(): number {
    return this.inFlightBytes + this.stashLen;
  }

  get inFlightStreams(): number {
    return this.inFlight;
  }

  get peerChunkSize(): number {
    return this.chunkSize;
  }

  /** Applies the peer's Set Chunk Size (from the next chunk on). */
  setChunkSize(size: number): void {
    if (size < 1 || size > this.limits.maxChunkSize) {
      throw new RtmpProtocolError('RTMP_CHUNK_SIZE_INVALID', 'chunk size out of range');
    }
    this.chunkSize = size;
  }

  /** Drops every unfinished message and partial header and ignores all further input. */
  reset(): void {
    this.closed = true;
    for (const s of this.streams.values()) this.release(s);
    this.streams.clear();
    this.current = null;
    this.stashLen = 0;
  }

  /** Abort Message: drops the unfinished message of a chunk stream. */
  abort(csid: number): void {
    const s = this.streams.get(csid);
    if (s?.buf) this.release(s);
  }

  private release(s: ChunkStream): void {
    if (!s.buf) return;
    this.inFlight--;
    this.inFlightBytes -= s.length;
    s.buf = null;
    s.filled = 0;
  }

  /** Consumes `data` entirely. Throws RtmpProtocolError on malformed input. */
  push(input: Buffer): void {
    if (this.closed) return;
    let data = input;
    let pos = 0;
    if (this.stashLen > 0) {
      // A header split across reads: complete it in the stash, then go on in `data`.
      const take = Math.min(data.length, MAX_HEADER - this.stashLen);
      data.copy(this.stash, this.stashLen, 0, take);
      const total = this.stashLen + take;
      const used = this.parseHeader(this.stash, 0, total);
      if (used < 0) {
        this.stashLen = total;
        return;
      }
      if (used >= this.stashLen) {
        pos = used - this.stashLen;
      } else {
        // The header ended inside the stash (an optional extended timestamp turned out
        // absent): the rest of the stash is payload, ahead of `data`.
        data = Buffer.concat([this.stash.subarray(used, this.stashLen), data]);
      }
      this.stashLen = 0;
    }
    const end = data.length;
    // A message handler may close the decoder (reset) in the middle of this read.
    while (pos < end && !this.closed) {
      if (this.current) {
        pos = this.readPayload(data, pos);
        continue;
      }
      const used = this.parseHeader(data, pos, end);
      if (used < 0) {
        data.copy(this.stash, 0, pos, end);
        this.stashLen = end - pos;
        return;
      }
      pos += used;
    }
  }

  /**
   * Parses one chunk header at `pos`, applies it and sets `current`.
   * Returns the header's length, or -1 when more bytes are needed.
   */
  private parseHeader(b: Buffer, pos: number, end: number): number {
    const start = pos;
    if (pos >= end) return -1;
    const b0 = b[pos++]!;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    if (csid === 0) {
      if (pos + 1 > end) return -1;
      csid = 64 + b[pos++]!;
    } else if (csid === 1) {
      if (pos + 2 > end) return -1;
      csid = 64 + b[pos]! + b[pos + 1]! * 256;
      pos += 2;
    }
    let s = this.streams.get(csid);
    if (!s) {
      if (fmt !== 0) {
        throw new RtmpProtocolError(
          'RTMP_CHUNK_HEADER_INVALID',
          'chunk stream starts without a full header',
        );
      }
      if (this.streams.size >= this.limits.maxChunkStreams) {
        throw new RtmpProtocolError('RTMP_TOO_MANY_CHUNK_STREAMS', 'too many chunk streams');
      }
      s = new ChunkStream(csid);
      this.streams.set(csid, s);
    }
    const headerLen = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (pos + headerLen > end) return -1;
    let field = 0;
    let ext = false;
    let length = s.length;
    let typeId = s.typeId;
    let streamId = s.streamId;
    if (fmt <= 2) {
      field = b.readUIntBE(pos, 3);
      if (fmt <= 1) {
        length = b.readUIntBE(pos + 3, 3);
        typeId = b[pos + 6]!;
        if (fmt === 0) streamId = b.readUInt32LE(pos + 7);
      }
      pos += headerLen;
      if (field === 0xffffff) {
        ext = true;
        if (pos + 4 > end) return -1;
        field = b.readUInt32BE(pos);
        pos += 4;
      }
    } else if (s.extended) {
      if (s.buf) {
        // Continuation of a message: the spec (and ffmpeg, OBS) repeat the extended
        // timestamp here; some encoders omit it, so take it only when it matches.
        if (pos + 4 > end) return -1;
        if (b.readUInt32BE(pos) === s.field) pos += 4;
      } else {
        if (pos + 4 > end) return -1;
        field = b.readUInt32BE(pos);
        pos += 4;
      }
    }
    this.apply(s, fmt, field, ext, length, typeId, streamId);
    return pos - start;
  }

  private apply(
    s: ChunkStream,
    fmt: number,
    field: number,
    ext: boolean,
    length: number,
    typeId: number,
    streamId: number,
  ): void {
    if (fmt === 3 && s.buf) {
      this.current = s;
      this.chunkRemaining = Math.min(this.chunkSize, s.length - s.filled);
      return;
    }
    // A new message. A full header in the middle of one abandons the old one.
    if (s.buf) this.release(s);
    if (fmt === 0) {
      s.timestamp = field;
      s.field = field;
      s.extended = ext;
    } else if (fmt !== 3) {
      s.timestamp = (s.timestamp + field) >>> 0;
      s.field = field;
      s.extended = ext;
    } else {
      // Type 3 starting a message repeats the last delta; after a type 0 that is the
      // type 0's timestamp itself (RTMP spec 5.3.1.2.4, as ffmpeg and librtmp read it).
      if (s.extended) s.field = field;
      s.timestamp = (s.timestamp + s.field) >>> 0;
    }
    s.length = length;
    s.typeId = typeId;
    s.streamId = streamId;
    if (length > this.limits.maxMessageLength) {
      throw new RtmpProtocolError('RTMP_MESSAGE_TOO_LARGE', 'message longer than allowed');
    }
    if (length === 0) {
      this.deliver(s, Buffer.alloc(0));
      return;
    }
    this.current = s;
    this.chunkRemaining = Math.min(this.chunkSize, length);
  }

  private readPayload(data: Buffer, pos: number): number {
    const s = this.current!;
    const avail = data.length - pos;
    if (!s.buf) {
      if (this.chunkRemaining === s.length && avail >= s.length) {
        // The whole message is in this one chunk and this one read: no copy.
        this.current = null;
        this.deliver(s, data.subarray(pos, pos + s.length));
        return pos + s.length;
      }
      if (this.inFlight >= this.limits.maxChunkStreamsInFlight) {
        throw new RtmpProtocolError(
          'RTMP_TOO_MANY_CHUNK_STREAMS',
          'too many chunk streams with unfinished messages',
        );
      }
      if (this.inFlightBytes + s.length > this.limits.maxBufferedBytes) {
        throw new RtmpProtocolError(
          'RTMP_BUFFER_LIMIT_EXCEEDED',
          'unfinished messages exceed the buffer limit',
        );
      }
      // allocUnsafe: pages are only committed as the peer's bytes are copied in.
      s.buf = Buffer.allocUnsafe(s.length);
      s.filled = 0;
      this.inFlight++;
      this.inFlightBytes += s.length;
    }
    const n = Math.min(avail, this.chunkRemaining);
    data.copy(s.buf, s.filled, pos, pos + n);
    s.filled += n;
    this.chunkRemaining -= n;
    if (this.chunkRemaining === 0) {
      this.current = null;
      if (s.filled === s.length) {
        const payload = s.buf;
        this.release(s);
        this.deliver(s, payload);
      }
    }
    return pos + n;
  }

  private deliver(s: ChunkStream, payload: Buffer): void {
    this.onMessage({
      csid: s.csid,
      typeId: s.typeId,
      streamId: s.streamId,
      timestamp: s.timestamp,
      payload,
    });
  }
}

/**
 * Encodes one message as chunks: a type-0 header, then type-3 continuations
 * (repeating the extended timestamp, as the spec and ffmpeg do).
 */
export function encodeChunks(
  csid: number,
  typeId: number,
  streamId: number,
  timestamp: number,
  payload: Buffer,
  chunkSize: number,
): Buffer {
  if (csid < 2 || csid > 65599) throw new RangeError('chunk stream id out of range');
  const basicLen = csid < 64 ? 1 : csid < 320 ? 2 : 3;
  const ts = timestamp >>> 0;
  const ext = ts >= 0xffffff;
  const chunks = Math.max(1, Math.ceil(payload.length / chunkSize));
  const contLen = basicLen + (ext ? 4 : 0);
  const total = basicLen + 11 + (ext ? 4 : 0) + payload.length + (chunks - 1) * contLen;
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  const basic = (fmt: number): void => {
    if (basicLen === 1) {
      out[pos++] = (fmt << 6) | csid;
    } else if (basicLen === 2) {
      out[pos++] = fmt << 6;
      out[pos++] = csid - 64;
    } else {
      out[pos++] = (fmt << 6) | 1;
      out.writeUInt16LE(csid - 64, pos);
      pos += 2;
    }
  };
  basic(0);
  out.writeUIntBE(ext ? 0xffffff : ts, pos, 3);
  out.writeUIntBE(payload.length, pos + 3, 3);
  out[pos + 6] = typeId;
  out.writeUInt32LE(streamId, pos + 7);
  pos += 11;
  if (ext) {
    out.writeUInt32BE(ts, pos);
    pos += 4;
  }
  for (let off = 0; off < payload.length || off === 0; off += chunkSize) {
    if (off > 0) {
      basic(3);
      if (ext) {
        out.writeUInt32BE(ts, pos);
        pos += 4;
      }
    }
    const n = Math.min(chunkSize, payload.length - off);
    payload.copy(out, pos, off, off + n);
    pos += n;
    if (payload.length === 0) break;
  }
  return out;
}
