/**
 * The client side, for tests (`@neon/rtmp/testing`): builds the bytes an
 * encoder sends, with full control over chunk header types, decodes what the
 * session sends back, and fuzzes the session.
 */
import { connect } from 'node:net';
import { AmfEcmaArray, amf0DecodeAll, amf0Encode, amfObject, type AmfValue } from './amf0.js';
import { ChunkDecoder, defaultChunkLimits, type RtmpMessage } from './chunk.js';
import { RtmpServerSession } from './session.js';
import type { RtmpSessionEventMap, RtmpSessionOptions } from './session-types.js';

export function handshake(): Buffer {
  const c0c1 = Buffer.alloc(1 + 1536);
  c0c1[0] = 3;
  for (let i = 9; i < 1537; i++) c0c1[i] = (i * 7) & 0xff;
  return Buffer.concat([c0c1, Buffer.alloc(1536, 0x5a)]);
}

export type Fmt = 0 | 1 | 2 | 3;

/** Basic header for a chunk stream id (1, 2 or 3 bytes). */
export function basicHeader(fmt: Fmt, csid: number): Buffer {
  if (csid < 64) return Buffer.of((fmt << 6) | csid);
  if (csid < 320) return Buffer.of(fmt << 6, csid - 64);
  return Buffer.of((fmt << 6) | 1, (csid - 64) & 0xff, (csid - 64) >> 8);
}

export interface ChunkSpec {
  csid: number;
  fmt: Fmt;
  /** Absolute (fmt 0) or delta (fmt 1, 2); ignored for fmt 3 unless `extended`. */
  timestamp?: number;
  typeId?: number;
  streamId?: number;
  payload: Buffer;
  chunkSize: number;
  /** The header of this chunk stream uses an extended timestamp (fmt 3 must repeat it). */
  extended?: boolean;
  /** For fmt 3 continuations: write the extended timestamp again (the spec says yes). */
  repeatExtended?: boolean;
}

/** One message as chunks, with the header type asked for on the first chunk. */
export function chunkMessage(spec: ChunkSpec): Buffer {
  const ts = spec.timestamp ?? 0;
  const ext = spec.extended ?? ts >= 0xffffff;
  const parts: Buffer[] = [basicHeader(spec.fmt, spec.csid)];
  const f = Buffer.alloc(11);
  f.writeUIntBE(ext ? 0xffffff : ts, 0, 3);
  f.writeUIntBE(spec.payload.length, 3, 3);
  f[6] = spec.typeId ?? 0;
  f.writeUInt32LE(spec.streamId ?? 0, 7);
  const extBytes = Buffer.alloc(4);
  extBytes.writeUInt32BE(ts >>> 0, 0);
  if (spec.fmt === 0) parts.push(f);
  else if (spec.fmt === 1) parts.push(f.subarray(0, 7));
  else if (spec.fmt === 2) parts.push(f.subarray(0, 3));
  if (ext) parts.push(extBytes);
  for (let off = 0; off < spec.payload.length; off += spec.chunkSize) {
    if (off > 0) {
      parts.push(basicHeader(3, spec.csid));
      if (ext && spec.repeatExtended !== false) parts.push(extBytes);
    }
    parts.push(spec.payload.subarray(off, off + spec.chunkSize));
  }
  return Buffer.concat(parts);
}

export function command(
  csid: number,
  streamId: number,
  chunkSize: number,
  ...values: AmfValue[]
): Buffer {
  return chunkMessage({
    csid,
    fmt: 0,
    typeId: 20,
    streamId,
    payload: amf0Encode(...values),
    chunkSize,
  });
}

export function setChunkSize(size: number, chunkSize = 128): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(size >>> 0, 0);
  return chunkMessage({ csid: 2, fmt: 0, typeId: 1, payload: p, chunkSize });
}

/** AVC sequence header tag body with a small but well-formed avcC. */
export function avcSequenceHeader(): Buffer {
  const sps = Buffer.from('6764001facd9402805bb0110000003001000000303c0f183196', 'hex');
  const pps = Buffer.from('68ebe3cb22c0', 'hex');
  const rec = Buffer.concat([
    Buffer.of(1, 0x64, 0x00, 0x1f, 0xff, 0xe1),
    Buffer.of(sps.length >> 8, sps.length & 0xff),
    sps,
    Buffer.of(1, pps.length >> 8, pps.length & 0xff),
    pps,
  ]);
  return Buffer.concat([Buffer.of(0x17, 0, 0, 0, 0), rec]);
}

export function aacSequenceHeader(): Buffer {
  return Buffer.of(0xaf, 0x00, 0x12, 0x10); // AAC-LC 44.1 kHz stereo
}

export function videoFrame(key: boolean, size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  b[0] = key ? 0x17 : 0x27;
  b[1] = 1;
  for (let i = 5; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

export function audioFrame(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  b[0] = 0xaf;
  b[1] = 1;
  for (let i = 2; i < size; i++) b[i] = (i * 17 + seed) & 0xff;
  return b;
}

export interface ScriptOptions {
  /** Chunk size the client announces after connect (128 = never announce). */
  chunkSize?: number;
  /** Start media timestamps here (use > 0xFFFFFF for extended timestamps). */
  baseTimestamp?: number;
  frames?: number;
  publishName?: string;
  /** Send every delta as an extended timestamp too (legal, rare: stresses type-3 headers). */
  extendedDeltas?: boolean;
  /** End with FCUnpublish + deleteStream (default true). */
  unpublish?: boolean;
}

export interface ExpectedMedia {
  type: 8 | 9;
  timestamp: number;
  payload: Buffer;
}

/**
 * What ffmpeg or OBS sends for a publish, with every chunk header type used:
 * video on csid 6 (type 0, then 1 for size changes, 3 for repeats, 2 for a new delta),
 * audio on csid 4 (type 0, then 2, then 3 for same-size same-delta frames).
 */
export function publishScript(opts: ScriptOptions = {}): {
  bytes: Buffer;
  /** The same bytes as handshake, then one buffer per message. */
  segments: Buffer[];
  media: ExpectedMedia[];
} {
  const cs = opts.chunkSize ?? 4096;
  const base = opts.baseTimestamp ?? 0;
  const parts: Buffer[] = [handshake()];
  let size = 128;
  parts.push(
    command(
      3,
      0,
      size,
      'connect',
      1,
      amfObject({
        app: 'live',
        type: 'nonprivate',
        flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)',
        tcUrl: 'rtmp://127.0.0.1:1935/live',
      }),
    ),
  );
  if (cs !== 128) {
    parts.push(setChunkSize(cs, size));
    size = cs;
  }
  const name = opts.publishName ?? 'sk_test';
  parts.push(command(3, 0, size, 'releaseStream', 2, null, name));
  parts.push(command(3, 0, size, 'FCPublish', 3, null, name));
  parts.push(command(3, 0, size, 'createStream', 4, null));
  parts.push(command(8, 1, size, 'publish', 5, null, name, 'live'));
  parts.push(
    chunkMessage({
      csid: 4,
      fmt: 0,
      typeId: 18,
      streamId: 1,
      chunkSize: size,
      payload: amf0Encode(
        '@setDataFrame',
        'onMetaData',
        new AmfEcmaArray(
          amfObject({
            width: 1280,
            height: 720,
            framerate: 30,
            videocodecid: 7,
            audiocodecid: 10,
            videodatarate: 2500,
            audiodatarate: 128,
            encoder: 'obs-output module (libobs version 30.0.0)',
          }),
        ),
      ),
    }),
  );
  const media: ExpectedMedia[] = [];
  const avc = avcSequenceHeader();
  const aac = aacSequenceHeader();
  parts.push(
    chunkMessage({
      csid: 6,
      fmt: 0,
      typeId: 9,
      streamId: 1,
      timestamp: base,
      payload: avc,
      chunkSize: size,
    }),
  );
  media.push({ type: 9, timestamp: base, payload: avc });
  parts.push(
    chunkMessage({
      csid: 4,
      fmt: 0,
      typeId: 8,
      streamId: 1,
      timestamp: base,
      payload: aac,
      chunkSize: size,
    }),
  );
  media.push({ type: 8, timestamp: base, payload: aac });
  const ext = opts.extendedDeltas === true;
  let vts = base;
  let ats = base;
  let lastVideoSize = avc.length;
  let lastAudioDelta = -1;
  const frames = opts.frames ?? 12;
  for (let i = 0; i < frames; i++) {
    // Video: sizes vary (type 1), except every third frame repeats the previous size and delta (type 3).
    const vsize = i % 3 === 2 ? lastVideoSize : 300 + ((i * 997) % 9000);
    const delta = 33 + (i % 2);
    const v = videoFrame(i % 6 === 0, vsize, i);
    const fmt: Fmt = i % 3 === 2 ? 2 : 1;
    vts = (vts + delta) >>> 0;
    parts.push(
      chunkMessage({
        csid: 6,
        fmt,
        typeId: 9,
        timestamp: delta,
        payload: v,
        chunkSize: size,
        extended: ext,
      }),
    );
    media.push({ type: 9, timestamp: vts, payload: v });
    lastVideoSize = vsize;
    // Audio: constant size and spacing, so after the first type 2 every frame is a bare type 3.
    const a = audioFrame(200, i);
    const adelta = 23;
    ats = (ats + adelta) >>> 0;
    if (lastAudioDelta === adelta) {
      parts.push(
        chunkMessage({
          csid: 4,
          fmt: 3,
          payload: a,
          chunkSize: size,
          timestamp: adelta,
          extended: ext,
        }),
      );
    } else {
      parts.push(
        chunkMessage({
          csid: 4,
          fmt: 1,
          typeId: 8,
          timestamp: adelta,
          payload: a,
          chunkSize: size,
          extended: ext,
        }),
      );
    }
    lastAudioDelta = adelta;
    media.push({ type: 8, timestamp: ats, payload: a });
  }
  if (opts.unpublish !== false) {
    parts.push(command(3, 0, size, 'FCUnpublish', 6, null, name));
    parts.push(command(3, 0, size, 'deleteStream', 7, null, 1));
  }
  return { bytes: Buffer.concat(parts), segments: parts, media };
}

export interface Run {
  session: RtmpServerSession;
  events: { [K in keyof RtmpSessionEventMap]?: RtmpSessionEventMap[K][] };
  sent: Buffer[];
}

/** A session that accepts every publish synchronously and records everything. */
export function newSession(
  options: Partial<RtmpSessionOptions> = {},
  decide: 'accept' | 'reject' | 'none' = 'accept',
): Run {
  const sent: Buffer[] = [];
  const session = new RtmpServerSession({
    send: (b) => sent.push(b),
    randomFill: (b) => b.fill(1),
    ...options,
  });
  const events: Run['events'] = {};
  const keys: (keyof RtmpSessionEventMap)[] = [
    'connect',
    'publish',
    'metadata',
    'video',
    'audio',
    'unpublish',
    'pong',
    'error',
  ];
  for (const k of keys) {
    session.on(k, (e: RtmpSessionEventMap[typeof k]) => {
      ((events[k] ??= []) as unknown[]).push(e);
    });
  }
  session.on('publish', (req) => {
    if (decide === 'accept') req.accept();
    else if (decide === 'reject') req.reject();
  });
  return { session, events, sent };
}

/** The messages a session sent, reassembled and, for commands, decoded. */
export function serverMessages(sent: Buffer[]): (RtmpMessage & { values?: AmfValue[] })[] {
  const all = Buffer.concat(sent);
  const out: (RtmpMessage & { values?: AmfValue[] })[] = [];
  const decoder: ChunkDecoder = new ChunkDecoder(defaultChunkLimits, (m) => {
    if (m.typeId === 1) decoder.setChunkSize(m.payload.readUInt32BE(0));
    out.push(m.typeId === 20 ? { ...m, values: amf0DecodeAll(m.payload) } : m);
  });
  decoder.push(all.subarray(1 + 2 * 1536));
  return out;
}

export interface StatusInfo {
  code: string;
  description: string;
}

/** The info object (`code`, `description`) of every onStatus the session sent. */
export function statusInfos(sent: Buffer[]): StatusInfo[] {
  return serverMessages(sent)
    .filter((m) => m.values?.[0] === 'onStatus')
    .map((m) => {
      const info = m.values?.[3];
      const field = (name: string) => {
        const v =
          info && typeof info === 'object' && name in info
            ? (info as Record<string, unknown>)[name]
            : undefined;
        return typeof v === 'string' ? v : '';
      };
      return { code: field('code'), description: field('description') };
    });
}

/** The `code` of every onStatus the session sent. */
export function statusCodes(sent: Buffer[]): string[] {
  return statusInfos(sent).map((i) => i.code);
}

/**
 * Publishes `name` (to app `live`, no media) from a raw client and resolves
 * with the server's answer to it (a `NetStream.Publish.*` status), then
 * hangs up. Rejects when the server closes first or says nothing in `timeoutMs`.
 */
export async function publishStatus(
  port: number,
  name: string,
  { host = '127.0.0.1', timeoutMs = 10_000 } = {},
): Promise<StatusInfo> {
  const socket = connect({ host, port });
  const received: Buffer[] = [];
  try {
    return await new Promise<StatusInfo>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no publish status')), timeoutMs);
      const check = () => {
        let found: StatusInfo | undefined;
        try {
          found = statusInfos(received).find((i) => i.code.startsWith('NetStream.Publish.'));
        } catch {
          return; // a partial message: wait for more
        }
        if (!found) return;
        clearTimeout(timer);
        resolve(found);
      };
      socket.on('connect', () =>
        socket.write(publishScript({ publishName: name, frames: 0, unpublish: false }).bytes),
      );
      socket.on('data', (d: Buffer) => {
        received.push(d);
        check();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        check();
        clearTimeout(timer);
        reject(new Error('closed without a publish status'));
      });
    });
  } finally {
    socket.destroy();
  }
}
