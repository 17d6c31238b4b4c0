/**
 * ISO-BMFF (fragmented MP4) reading: just enough of ISO/IEC 14496-12 to split
 * ffmpeg's CMAF output into its initialisation section and fragments, and to
 * read sample timing and sync flags from each fragment. Bytes in, values out.
 */

export interface Box {
  type: string;
  /** Offset of the box header in the buffer it was read from. */
  start: number;
  /** Offset of the payload (after size/type, and the large size if present). */
  payload: number;
  end: number;
}

export class BmffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BmffError';
  }
}

/** Boxes directly inside `buf[from, to)`. Throws on a size that runs past `to`. */
export function readBoxes(buf: Buffer, from = 0, to = buf.length): Box[] {
  const boxes: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    const header = boxHeader(buf, at);
    if (header === null) throw new BmffError(`truncated box header at ${at}`);
    const end = at + header.size;
    if (end > to) throw new BmffError(`box ${header.type} at ${at} runs past its parent`);
    boxes.push({ type: header.type, start: at, payload: at + header.headerSize, end });
    at = end;
  }
  return boxes;
}

function boxHeader(
  buf: Buffer,
  at: number,
): { size: number; headerSize: number; type: string } | null {
  if (at + 8 > buf.length) return null;
  let size = buf.readUInt32BE(at);
  const type = buf.toString('latin1', at + 4, at + 8);
  let headerSize = 8;
  if (size === 1) {
    if (at + 16 > buf.length) return null;
    const large = buf.readBigUInt64BE(at + 8);
    if (large > BigInt(Number.MAX_SAFE_INTEGER)) throw new BmffError(`box ${type} too large`);
    size = Number(large);
    headerSize = 16;
  } else if (size === 0) {
    // "extends to the end of the file": meaningless on a live stream.
    throw new BmffError(`box ${type} of unbounded size`);
  }
  if (size < headerSize) throw new BmffError(`box ${type} has invalid size ${size}`);
  return { size, headerSize, type };
}

export function findBox(buf: Buffer, boxes: Box[], path: string[]): Box | undefined {
  let level = boxes;
  let found: Box | undefined;
  for (const [i, type] of path.entries()) {
    found = level.find((b) => b.type === type);
    if (found === undefined) return undefined;
    if (i < path.length - 1) level = readBoxes(buf, found.payload + containerSkip(type), found.end);
  }
  return found;
}

/** Bytes of fixed fields before the children of a container box. */
function containerSkip(type: string): number {
  if (type === 'stsd') return 8;
  if (type === 'avc1' || type === 'avc3') return 78;
  if (type === 'mp4a') return 28;
  return 0;
}

export type TopLevel =
  | { kind: 'init'; bytes: Buffer }
  | { kind: 'fragment'; bytes: Buffer }
  | { kind: 'other'; type: string };

/**
 * Splits a byte stream into top-level units as they complete: ftyp+moov
 * (the init section), moof+mdat (a fragment; `styp`/`prft`/`sidx` before a
 * moof are kept with it), anything else reported and dropped.
 */
export class BoxStreamSplitter {
  private buffered: Buffer = Buffer.alloc(0);
  private pending: Buffer[] = [];
  private pendingKind: 'init' | 'fragment' | null = null;

  constructor(private readonly maxBoxBytes = 64 * 1024 * 1024) {}

  push(chunk: Buffer): TopLevel[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: TopLevel[] = [];
    let at = 0;
    for (;;) {
      const header = boxHeader(this.buffered, at);
      if (header === null) break;
      if (header.size > this.maxBoxBytes)
        throw new BmffError(`box ${header.type} exceeds the size limit`);
      if (at + header.size > this.buffered.length) break;
      const box = this.buffered.subarray(at, at + header.size);
      at += header.size;
      this.take(header.type, box, out);
    }
    this.buffered =
      at === this.buffered.length ? Buffer.alloc(0) : Buffer.from(this.buffered.subarray(at));
    return out;
  }

  private take(type: string, box: Buffer, out: TopLevel[]): void {
    switch (type) {
      case 'ftyp':
        this.pending = [box];
        this.pendingKind = 'init';
        return;
      case 'moov':
        this.pending.push(box);
        out.push({ kind: 'init', bytes: Buffer.concat(this.pending) });
        this.pending = [];
        this.pendingKind = null;
        return;
      case 'styp':
      case 'prft':
      case 'sidx':
      case 'moof':
        if (this.pendingKind !== 'fragment') this.pending = [];
        this.pending.push(box);
        this.pendingKind = 'fragment';
        return;
      case 'mdat':
        if (this.pendingKind !== 'fragment') {
          out.push({ kind: 'other', type });
          return;
        }
        this.pending.push(box);
        out.push({ kind: 'fragment', bytes: Buffer.concat(this.pending) });
        this.pending = [];
        this.pendingKind = null;
        return;
      default:
        out.push({ kind: 'other', type });
    }
  }
}

export interface TrackInfo {
  trackId: number;
  timescale: number;
  /** `vide`, `soun`, … from hdlr. */
  handler: string;
  width: number;
  height: number;
  /** RFC 6381 codec string: `avc1.64001f`, `mp4a.40.2`. */
  codec: string;
  sampleRate: number;
  channels: number;
  defaultSampleDuration: number;
}

/** Reads the first track of an init section (one track per CMAF stream). */
export function parseInit(init: Buffer): TrackInfo {
  const top = readBoxes(init);
  const trak = findBox(init, top, ['moov', 'trak']);
  if (trak === undefined) throw new BmffError('init section has no moov/trak');
  const trakChildren = readBoxes(init, trak.payload, trak.end);
  const tkhd = findBox(init, trakChildren, ['tkhd']);
  const mdhd = findBox(init, trakChildren, ['mdia', 'mdhd']);
  const hdlr = findBox(init, trakChildren, ['mdia', 'hdlr']);
  const stsd = findBox(init, trakChildren, ['mdia', 'minf', 'stbl', 'stsd']);
  if (!tkhd || !mdhd || !hdlr || !stsd)
    throw new BmffError('init section lacks tkhd/mdhd/hdlr/stsd');

  const tkhdVersion = init.readUInt8(tkhd.payload);
  const trackId = init.readUInt32BE(tkhd.payload + (tkhdVersion === 1 ? 20 : 12));
  const tkhdTail = tkhd.end - 8;
  const width = init.readUInt32BE(tkhdTail) >>> 16;
  const height = init.readUInt32BE(tkhdTail + 4) >>> 16;

  const mdhdVersion = init.readUInt8(mdhd.payload);
  const timescale = init.readUInt32BE(mdhd.payload + (mdhdVersion === 1 ? 20 : 12));
  const handler = init.toString('latin1', hdlr.payload + 8, hdlr.payload + 12);

  const entries = readBoxes(init, stsd.payload + 8, stsd.end);
  const entry = entries[0];
  if (entry === undefined) throw new BmffError('stsd has no sample entry');
  let codec = entry.type;
  let sampleRate = 0;
  let channels = 0;
  let codedWidth = width;
  let codedHeight = height;
  if (entry.type === 'avc1' || entry.type === 'avc3') {
    // The sample entry holds the coded size; tkhd's is the display size (after SAR).
    codedWidth = init.readUInt16BE(entry.payload + 24);
    codedHeight = init.readUInt16BE(entry.payload + 26);
    const avcC = readBoxes(init, entry.payload + 78, entry.end).find((b) => b.type === 'avcC');
    if (avcC) {
      const hex = (n: number) => n.toString(16).padStart(2, '0');
      codec = `${entry.type}.${hex(init[avcC.payload + 1] ?? 0)}${hex(init[avcC.payload + 2] ?? 0)}${hex(init[avcC.payload + 3] ?? 0)}`;
    }
  } else if (entry.type === 'mp4a') {
    channels = init.readUInt16BE(entry.payload + 16);
    sampleRate = init.readUInt32BE(entry.payload + 24) >>> 16;
    const esds = readBoxes(init, entry.payload + 28, entry.end).find((b) => b.type === 'esds');
    const asc = esds ? audioSpecificConfig(init, esds) : null;
    codec = `mp4a.40.${asc?.objectType ?? 2}`;
    // ISO files always say 2 in the sample entry; the AudioSpecificConfig knows.
    if (asc && asc.channels > 0) channels = asc.channels;
  }

  let defaultSampleDuration = 0;
  const trex = findBox(init, top, ['moov', 'mvex', 'trex']);
  if (trex) defaultSampleDuration = init.readUInt32BE(trex.payload + 12);
  return {
    trackId,
    timescale,
    handler,
    width: codedWidth,
    height: codedHeight,
    codec,
    sampleRate,
    channels,
    defaultSampleDuration,
  };
}

/** Object type and channel configuration from the esds DecoderSpecificInfo (AudioSpecificConfig). */
function audioSpecificConfig(
  buf: Buffer,
  esds: Box,
): { objectType: number; channels: number } | null {
  // Walk the descriptors: ES (3) > DecoderConfig (4) > DecoderSpecific (5).
  let at = esds.payload + 4;
  const readDescriptor = (): { tag: number; body: number; len: number } | null => {
    if (at >= esds.end) return null;
    const tag = buf[at++] ?? 0;
    let len = 0;
    for (let i = 0; i < 4; i++) {
      const b = buf[at++] ?? 0;
      len = (len << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    return { tag, body: at, len };
  };
  const es = readDescriptor();
  if (es?.tag !== 3) return null;
  const flags = buf[at + 2] ?? 0;
  at += 3;
  if (flags & 0x80) at += 2;
  if (flags & 0x40) at += 1 + (buf[at] ?? 0);
  if (flags & 0x20) at += 2;
  const dc = readDescriptor();
  if (dc?.tag !== 4) return null;
  at += 13;
  const ds = readDescriptor();
  if (ds?.tag !== 5) return null;
  const bits =
    ((buf[ds.body] ?? 0) << 24) |
    ((buf[ds.body + 1] ?? 0) << 16) |
    ((buf[ds.body + 2] ?? 0) << 8) |
    (buf[ds.body + 3] ?? 0);
  const objectType = (bits >>> 27) & 0x1f;
  const frequencyIndex = (bits >>> 23) & 0x0f;
  // An explicit 24-bit sampling frequency sits between the index and the channels.
  const channels =
    frequencyIndex === 15 ? ((buf[ds.body + 4] ?? 0) >> 3) & 0x0f : (bits >>> 19) & 0x0f;
  return { objectType: objectType === 0 ? 2 : objectType, channels };
}

export interface Sample {
  /** Decode time in the track's timescale. */
  dts: number;
  duration: number;
  size: number;
  sync: boolean;
  compositionOffset: number;
}

export interface FragmentInfo {
  sequenceNumber: number;
  baseDecodeTime: number;
  samples: Sample[];
  /** Sum of sample durations, in the track's timescale. */
  duration: number;
  startsWithSync: boolean;
}

/** Sample timing and flags of one moof (tfhd defaults, tfdt, trun entries). */
export function parseFragment(
  bytes: Buffer,
  track: Pick<TrackInfo, 'handler' | 'defaultSampleDuration'>,
): FragmentInfo {
  const top = readBoxes(bytes);
  const moof = top.find((b) => b.type === 'moof');
  if (moof === undefined) throw new BmffError('fragment has no moof');
  const moofChildren = readBoxes(bytes, moof.payload, moof.end);
  const mfhd = moofChildren.find((b) => b.type === 'mfhd');
  const sequenceNumber = mfhd ? bytes.readUInt32BE(mfhd.payload + 4) : 0;
  const traf = moofChildren.find((b) => b.type === 'traf');
  if (traf === undefined) throw new BmffError('moof has no traf');
  const trafChildren = readBoxes(bytes, traf.payload, traf.end);

  const tfhd = trafChildren.find((b) => b.type === 'tfhd');
  if (tfhd === undefined) throw new BmffError('traf has no tfhd');
  const tfhdFlags = bytes.readUInt32BE(tfhd.payload) & 0xffffff;
  let at = tfhd.payload + 8;
  if (tfhdFlags & 0x1) at += 8;
  if (tfhdFlags & 0x2) at += 4;
  let defaultDuration = track.defaultSampleDuration;
  let defaultSize = 0;
  // Audio samples are all sync samples whatever the defaults say.
  let defaultFlags = track.handler === 'soun' ? 0 : 0x00010000;
  if (tfhdFlags & 0x8) {
    defaultDuration = bytes.readUInt32BE(at);
    at += 4;
  }
  if (tfhdFlags & 0x10) {
    defaultSize = bytes.readUInt32BE(at);
    at += 4;
  }
  if (tfhdFlags & 0x20) defaultFlags = bytes.readUInt32BE(at);

  const tfdt = trafChildren.find((b) => b.type === 'tfdt');
  let baseDecodeTime = 0;
  if (tfdt) {
    baseDecodeTime =
      bytes.readUInt8(tfdt.payload) === 1
        ? Number(bytes.readBigUInt64BE(tfdt.payload + 4))
        : bytes.readUInt32BE(tfdt.payload + 4);
  }

  const samples: Sample[] = [];
  let dts = baseDecodeTime;
  for (const trun of trafChildren.filter((b) => b.type === 'trun')) {
    const version = bytes.readUInt8(trun.payload);
    const flags = bytes.readUInt32BE(trun.payload) & 0xffffff;
    const count = bytes.readUInt32BE(trun.payload + 4);
    let p = trun.payload + 8;
    if (flags & 0x1) p += 4;
    let firstFlags: number | null = null;
    if (flags & 0x4) {
      firstFlags = bytes.readUInt32BE(p);
      p += 4;
    }
    const rowSize =
      (flags & 0x100 ? 4 : 0) +
      (flags & 0x200 ? 4 : 0) +
      (flags & 0x400 ? 4 : 0) +
      (flags & 0x800 ? 4 : 0);
    if (p + rowSize * count > trun.end) throw new BmffError('trun sample table runs past its box');
    for (let i = 0; i < count; i++) {
      let duration = defaultDuration;
      let size = defaultSize;
      let sampleFlags = i === 0 && firstFlags !== null ? firstFlags : defaultFlags;
      let compositionOffset = 0;
      if (flags & 0x100) {
        duration = bytes.readUInt32BE(p);
        p += 4;
      }
      if (flags & 0x200) {
        size = bytes.readUInt32BE(p);
        p += 4;
      }
      if (flags & 0x400) {
        sampleFlags = bytes.readUInt32BE(p);
        p += 4;
      }
      if (flags & 0x800) {
        compositionOffset = version === 0 ? bytes.readUInt32BE(p) : bytes.readInt32BE(p);
        p += 4;
      }
      // sample_is_non_sync_sample is bit 16; sample_depends_on == 2 also marks an I-frame.
      const sync = track.handler === 'soun' || (sampleFlags & 0x00010000) === 0;
      samples.push({ dts, duration, size, sync, compositionOffset });
      dts += duration;
    }
  }
  const duration = dts - baseDecodeTime;
  return {
    sequenceNumber,
    baseDecodeTime,
    samples,
    duration,
    startsWithSync: samples[0]?.sync ?? false,
  };
}
