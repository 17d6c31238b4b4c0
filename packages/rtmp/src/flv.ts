/**
 * FLV: the container RTMP media messages already are, minus the file framing.
 * The host writes `flvHeader` once, then one `flvTag` per audio, video or
 * script message, and pipes the result to ffmpeg (`-f flv -i pipe:0`).
 */

export const FlvTagType = { Audio: 8, Video: 9, Script: 18 } as const;
export type FlvTagType = (typeof FlvTagType)[keyof typeof FlvTagType];

export interface FlvTagData {
  type: FlvTagType;
  /** Milliseconds, 32-bit (wraps after ~49.7 days, as RTMP's own clock). */
  timestamp: number;
  payload: Buffer;
}

/** The 9-byte file header followed by PreviousTagSize0. */
export function flvHeader(streams: { audio: boolean; video: boolean }): Buffer {
  const b = Buffer.alloc(13);
  b.write('FLV', 0, 'latin1');
  b[3] = 1;
  b[4] = (streams.audio ? 0x04 : 0) | (streams.video ? 0x01 : 0);
  b.writeUInt32BE(9, 5);
  // bytes 9..12: PreviousTagSize0 = 0
  return b;
}

/** The 11-byte tag header for a payload of `size` bytes. */
export function flvTagHeader(type: FlvTagType, timestampMs: number, size: number): Buffer {
  if (size > 0xffffff) throw new RangeError('FLV tag payload larger than 16 MiB');
  const b = Buffer.allocUnsafe(11);
  const ts = timestampMs >>> 0;
  b[0] = type;
  b.writeUIntBE(size, 1, 3);
  b.writeUIntBE(ts & 0xffffff, 4, 3);
  b[7] = ts >>> 24; // TimestampExtended: the upper 8 bits
  b.writeUIntBE(0, 8, 3); // StreamID, always 0
  return b;
}

/** One tag with its trailing PreviousTagSize, as a single buffer. */
export function flvTag(type: FlvTagType, timestampMs: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(11 + payload.length + 4);
  flvTagHeader(type, timestampMs, payload.length).copy(out, 0);
  payload.copy(out, 11);
  out.writeUInt32BE(11 + payload.length, 11 + payload.length);
  return out;
}

/**
 * The same tag as three buffers (header, payload, size) so a writable stream
 * can take the payload without copying it (`writev` / cork + write).
 */
export function flvTagParts(type: FlvTagType, timestampMs: number, payload: Buffer): Buffer[] {
  const size = Buffer.allocUnsafe(4);
  size.writeUInt32BE(11 + payload.length, 0);
  return [flvTagHeader(type, timestampMs, payload.length), payload, size];
}

export class FlvFormatError extends Error {
  override readonly name = 'FlvFormatError';
  readonly code = 'FLV_INVALID';
}

export interface ParsedFlv {
  audio: boolean;
  video: boolean;
  tags: FlvTagData[];
  /** Bytes at the end that do not form a whole tag (a stream cut mid-tag). */
  trailing: number;
}

/** Reads a whole FLV file held in memory; PreviousTagSize values are checked. */
export function parseFlv(buf: Buffer): ParsedFlv {
  if (buf.length < 13 || buf.toString('latin1', 0, 3) !== 'FLV') {
    throw new FlvFormatError('not an FLV file');
  }
  const flags = buf[4]!;
  const dataOffset = buf.readUInt32BE(5);
  if (dataOffset < 9 || dataOffset + 4 > buf.length)
    throw new FlvFormatError('bad FLV header size');
  let pos = dataOffset + 4;
  const tags: FlvTagData[] = [];
  while (pos + 11 <= buf.length) {
    const type = buf[pos]! & 0x1f;
    const size = buf.readUIntBE(pos + 1, 3);
    const timestamp = (buf.readUIntBE(pos + 4, 3) | (buf[pos + 7]! << 24)) >>> 0;
    if (pos + 11 + size + 4 > buf.length) break;
    if (type !== 8 && type !== 9 && type !== 18) throw new FlvFormatError('unknown FLV tag type');
    const prev = buf.readUInt32BE(pos + 11 + size);
    if (prev !== 11 + size) throw new FlvFormatError('PreviousTagSize does not match the tag');
    tags.push({ type, timestamp, payload: buf.subarray(pos + 11, pos + 11 + size) });
    pos += 11 + size + 4;
  }
  return {
    audio: (flags & 0x04) !== 0,
    video: (flags & 0x01) !== 0,
    tags,
    trailing: buf.length - pos,
  };
}

/** FLV VideoTagHeader CodecID values. */
export const VideoCodecId = { H263: 2, Screen: 3, VP6: 4, VP6A: 5, Screen2: 6, AVC: 7 } as const;
/** FLV AudioTagHeader SoundFormat values. */
export const AudioCodecId = {
  MP3: 2,
  PCM: 3,
  Nellymoser: 6,
  G711A: 7,
  G711U: 8,
  AAC: 10,
  Speex: 11,
} as const;

export interface AvcDecoderConfig {
  profile: number;
  compatibility: number;
  level: number;
  /** Bytes of each NAL unit length prefix in the coded frames (1, 2 or 4). */
  nalLengthSize: number;
  sps: Buffer[];
  pps: Buffer[];
  /** RFC 6381 codec string, e.g. `avc1.64001f`. */
  codec: string;
}

export interface VideoTagInfo {
  codecId: number;
  /** 1 keyframe, 2 inter frame, 3 disposable, 4 generated keyframe, 5 info/command frame. */
  frameType: number;
  keyframe: boolean;
  /** Enhanced RTMP: a FourCC codec (e.g. `hvc1`) instead of a CodecID. */
  fourCc?: string;
  /** AVC: 0 sequence header, 1 NAL units, 2 end of sequence. */
  avcPacketType?: number;
  /** AVC: presentation minus decode time, in ms. */
  compositionTime?: number;
  /** This tag carries the decoder configuration (avcC) rather than a frame. */
  sequenceHeader: boolean;
  /** Parsed avcC, when this is an AVC sequence header that parses. */
  avc?: AvcDecoderConfig;
}

export interface AacConfig {
  /** MPEG-4 Audio Object Type (2 = AAC-LC). */
  objectType: number;
  sampleRate: number;
  channels: number;
  /** RFC 6381 codec string, e.g. `mp4a.40.2`. */
  codec: string;
}

export interface AudioTagInfo {
  codecId: number;
  /** FLV SoundRate field: 0 5.5 kHz, 1 11 kHz, 2 22 kHz, 3 44 kHz (AAC always says 3). */
  soundRate: number;
  /** 16-bit samples. */
  sampleSize16: boolean;
  stereo: boolean;
  /** AAC: 0 AudioSpecificConfig, 1 raw frame. */
  aacPacketType?: number;
  sequenceHeader: boolean;
  aac?: AacConfig;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** Parses an AVCDecoderConfigurationRecord; undefined when it is malformed. */
export function parseAvcDecoderConfig(rec: Buffer): AvcDecoderConfig | undefined {
  if (rec.length < 7 || rec[0] !== 1) return undefined;
  const profile = rec[1]!;
  const compatibility = rec[2]!;
  const level = rec[3]!;
  const nalLengthSize = (rec[4]! & 0x03) + 1;
  let pos = 5;
  const sps: Buffer[] = [];
  const pps: Buffer[] = [];
  const spsCount = rec[pos++]! & 0x1f;
  for (let i = 0; i < spsCount; i++) {
    if (pos + 2 > rec.length) return undefined;
    const len = rec.readUInt16BE(pos);
    pos += 2;
    if (pos + len > rec.length) return undefined;
    sps.push(rec.subarray(pos, pos + len));
    pos += len;
  }
  if (pos + 1 > rec.length) return undefined;
  const ppsCount = rec[pos++]!;
  for (let i = 0; i < ppsCount; i++) {
    if (pos + 2 > rec.length) return undefined;
    const len = rec.readUInt16BE(pos);
    pos += 2;
    if (pos + len > rec.length) return undefined;
    pps.push(rec.subarray(pos, pos + len));
    pos += len;
  }
  return {
    profile,
    compatibility,
    level,
    nalLengthSize,
    sps,
    pps,
    codec: `avc1.${hex2(profile)}${hex2(compatibility)}${hex2(level)}`,
  };
}

const aacSampleRates = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/** Parses the first bytes of an MPEG-4 AudioSpecificConfig; undefined when malformed. */
export function parseAacConfig(asc: Buffer): AacConfig | undefined {
  let bitPos = 0;
  const read = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bitPos++)
      v = (v << 1) | ((asc[bitPos >> 3]! >> (7 - (bitPos & 7))) & 1);
    return v >>> 0;
  };
  const has = (n: number): boolean => bitPos + n <= asc.length * 8;
  if (!has(9)) return undefined;
  let objectType = read(5);
  if (objectType === 31) {
    if (!has(6)) return undefined;
    objectType = 32 + read(6);
  }
  if (!has(4)) return undefined;
  const freqIndex = read(4);
  let sampleRate: number;
  if (freqIndex === 15) {
    if (!has(24)) return undefined;
    sampleRate = read(24);
  } else {
    sampleRate = aacSampleRates[freqIndex] ?? 0;
  }
  if (sampleRate === 0 || !has(4)) return undefined;
  const channels = read(4);
  return { objectType, sampleRate, channels, codec: `mp4a.40.${objectType}` };
}

/** Parses an FLV video tag's header bytes; undefined for an empty payload. */
export function parseVideoTag(payload: Buffer): VideoTagInfo | undefined {
  if (payload.length < 1) return undefined;
  const b0 = payload[0]!;
  if ((b0 & 0x80) !== 0) {
    // Enhanced RTMP: bits 4-6 frame type, low nibble packet type, then a FourCC.
    const frameType = (b0 >> 4) & 0x07;
    const packetType = b0 & 0x0f;
    const fourCc = payload.length >= 5 ? payload.toString('latin1', 1, 5) : '';
    return {
      codecId: 0,
      frameType,
      keyframe: frameType === 1,
      fourCc,
      sequenceHeader: packetType === 0,
    };
  }
  const frameType = b0 >> 4;
  const codecId = b0 & 0x0f;
  const info: VideoTagInfo = {
    codecId,
    frameType,
    keyframe: frameType === 1,
    sequenceHeader: false,
  };
  if (codecId === VideoCodecId.AVC && payload.length >= 5) {
    info.avcPacketType = payload[1]!;
    // SI24: composition time can be negative.
    info.compositionTime = (payload.readUIntBE(2, 3) << 8) >> 8;
    info.sequenceHeader = info.avcPacketType === 0;
    if (info.sequenceHeader) {
      const avc = parseAvcDecoderConfig(payload.subarray(5));
      if (avc) info.avc = avc;
    }
  }
  return info;
}

/** Parses an FLV audio tag's header bytes; undefined for an empty payload. */
export function parseAudioTag(payload: Buffer): AudioTagInfo | undefined {
  if (payload.length < 1) return undefined;
  const b0 = payload[0]!;
  const info: AudioTagInfo = {
    codecId: b0 >> 4,
    soundRate: (b0 >> 2) & 0x03,
    sampleSize16: (b0 & 0x02) !== 0,
    stereo: (b0 & 0x01) !== 0,
    sequenceHeader: false,
  };
  if (info.codecId === AudioCodecId.AAC && payload.length >= 2) {
    info.aacPacketType = payload[1]!;
    info.sequenceHeader = info.aacPacketType === 0;
    if (info.sequenceHeader) {
      const aac = parseAacConfig(payload.subarray(2));
      if (aac) info.aac = aac;
    }
  }
  return info;
}
