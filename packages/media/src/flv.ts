/**
 * A tolerant FLV tag splitter: the pipeline needs whole tags to probe codecs,
 * to start a fresh ffmpeg mid-stream (header + sequence headers + tags from a
 * keyframe) and to cut the byte stream only at tag boundaries.
 */

export const FLV_HEADER_BYTES = 9 + 4;

export interface FlvTag {
  type: 'audio' | 'video' | 'script' | 'other';
  timestamp: number;
  /** The whole tag: 11-byte header, body and the 4-byte previous-tag-size trailer. */
  bytes: Buffer;
  /** For video: a keyframe. For audio/video: a codec configuration record. */
  keyframe: boolean;
  sequenceHeader: boolean;
  /** FLV codec id (video: 7 = AVC) or sound format (audio: 10 = AAC). */
  codecId: number;
}

export interface FlvHeader {
  bytes: Buffer;
  hasAudio: boolean;
  hasVideo: boolean;
}

export class FlvReader {
  private buffered: Buffer = Buffer.alloc(0);
  private expectHeader = true;

  constructor(private readonly maxTagBytes = 16 * 1024 * 1024) {}

  /** The next bytes start a new FLV file (header first). */
  reset(): void {
    this.buffered = Buffer.alloc(0);
    this.expectHeader = true;
  }

  push(chunk: Buffer): { header: FlvHeader | null; tags: FlvTag[] } {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let header: FlvHeader | null = null;
    const tags: FlvTag[] = [];
    let at = 0;
    const buf = this.buffered;
    if (this.expectHeader) {
      if (buf.length < 3) return { header, tags };
      if (buf.toString('latin1', 0, 3) === 'FLV') {
        if (buf.length < FLV_HEADER_BYTES) return { header, tags };
        const offset = buf.readUInt32BE(5);
        const flags = buf[4] ?? 0;
        header = {
          bytes: Buffer.from(buf.subarray(0, FLV_HEADER_BYTES)),
          hasAudio: (flags & 0x04) !== 0,
          hasVideo: (flags & 0x01) !== 0,
        };
        at = Math.max(FLV_HEADER_BYTES, offset + 4);
      }
      this.expectHeader = false;
    }
    for (;;) {
      if (at + 11 > buf.length) break;
      const typeId = (buf[at] ?? 0) & 0x1f;
      const size = buf.readUIntBE(at + 1, 3);
      if (size > this.maxTagBytes) throw new Error(`FLV tag of ${size} bytes exceeds the limit`);
      const total = 11 + size + 4;
      if (at + total > buf.length) break;
      const timestamp = (buf.readUIntBE(at + 4, 3) | ((buf[at + 7] ?? 0) << 24)) >>> 0;
      const first = buf[at + 11] ?? 0;
      const second = buf[at + 12] ?? 0;
      const bytes = Buffer.from(buf.subarray(at, at + total));
      if (typeId === 9) {
        // Enhanced RTMP sets bit 7 and carries a packet type in the low nibble.
        const enhanced = (first & 0x80) !== 0;
        const frameType = (first >> 4) & 0x07;
        tags.push({
          type: 'video',
          timestamp,
          bytes,
          keyframe: frameType === 1,
          sequenceHeader: enhanced ? (first & 0x0f) === 0 : (first & 0x0f) === 7 && second === 0,
          codecId: enhanced ? -1 : first & 0x0f,
        });
      } else if (typeId === 8) {
        const format = first >> 4;
        tags.push({
          type: 'audio',
          timestamp,
          bytes,
          keyframe: false,
          sequenceHeader: format === 10 && second === 0,
          codecId: format,
        });
      } else {
        tags.push({
          type: typeId === 18 ? 'script' : 'other',
          timestamp,
          bytes,
          keyframe: false,
          sequenceHeader: false,
          codecId: -1,
        });
      }
      at += total;
    }
    this.buffered = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
    return { header, tags };
  }
}

/** Reads a numeric property (`width`, `height`, `framerate`) from an onMetaData script tag. */
export function metadataNumber(tag: FlvTag, key: string): number | undefined {
  const needle = Buffer.concat([
    Buffer.from([0, key.length]),
    Buffer.from(key, 'latin1'),
    Buffer.from([0]),
  ]);
  const at = tag.bytes.indexOf(needle, 11);
  if (at < 0 || at + needle.length + 8 > tag.bytes.length) return undefined;
  const value = tag.bytes.readDoubleBE(at + needle.length);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

export function flvHeader(hasAudio: boolean, hasVideo: boolean): Buffer {
  const b = Buffer.from([0x46, 0x4c, 0x56, 1, 0, 0, 0, 0, 9, 0, 0, 0, 0]);
  b[4] = (hasAudio ? 0x04 : 0) | (hasVideo ? 0x01 : 0);
  return b;
}
