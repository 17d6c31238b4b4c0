/** What the publisher sends, from RTMP onMetaData and the first FLV tags. May be incomplete. */
export interface SourceInfo {
  width?: number;
  height?: number;
  fps?: number;
  /** 'h264' (or 'avc1', 7), another codec name, or null when the stream has no video. */
  videoCodec?: string | null;
  /** 'aac' (or 'mp4a', 10), another codec name, or null when the stream has no audio. */
  audioCodec?: string | null;
  videoBitrateKbps?: number;
}

export interface RungSpec {
  name: string;
  height: number;
  videoBitrateKbps: number;
  audioBitrateKbps?: number;
}

/** The encoded rungs; `source` (a copy of the input video) is added by planLadder. */
export const DEFAULT_LADDER: RungSpec[] = [
  { name: '720p', height: 720, videoBitrateKbps: 2800 },
  { name: '480p', height: 480, videoBitrateKbps: 1400 },
  { name: '360p', height: 360, videoBitrateKbps: 800 },
  { name: '160p', height: 160, videoBitrateKbps: 300 },
];

export const SOURCE_RUNG = 'source';
export const AUDIO_RENDITION = 'audio';
export const DEFAULT_AUDIO_BITRATE_KBPS = 128;

/** One output of the ffmpeg process, i.e. one CMAF track. */
export type PlannedRendition =
  | {
      kind: 'video';
      name: string;
      /** Copy the input bitstream (the `source` rung) instead of encoding. */
      copy: boolean;
      /** Planned size; 0 when the source size is unknown (the packager reads the real one). */
      width: number;
      height: number;
      videoBitrateKbps: number;
    }
  | { kind: 'audio'; name: string; copy: boolean; audioBitrateKbps: number };

const H264_NAMES = new Set(['h264', 'avc', 'avc1', 'avc3', '7']);
const AAC_NAMES = new Set(['aac', 'mp4a', '10']);

export function isH264(codec: string | null | undefined): boolean {
  return typeof codec === 'string' && H264_NAMES.has(codec.toLowerCase());
}

export function isAac(codec: string | null | undefined): boolean {
  return typeof codec === 'string' && AAC_NAMES.has(codec.toLowerCase());
}

function evenWidth(height: number, source: SourceInfo): number {
  if (!source.width || !source.height) return Math.round((height * 16) / 9 / 2) * 2;
  return Math.max(2, Math.round((height * source.width) / source.height / 2) * 2);
}

/**
 * Chooses the renditions for a source. Never upscales: a rung above the source
 * height is dropped. A rung at the source height is kept — it is the same
 * picture at a bitrate viewers on slower links can sustain, while `source`
 * carries the publisher's own bitrate. A source of unknown height is treated
 * as 720p.
 * `source` copies H.264 untouched; any other video codec is encoded instead at
 * the source height, since a player could not decode it.
 */
export function planLadder(
  source: SourceInfo,
  ladder: RungSpec[] = DEFAULT_LADDER,
): PlannedRendition[] {
  const plan: PlannedRendition[] = [];
  const hasVideo = source.videoCodec !== null;
  const hasAudio = source.audioCodec !== null;
  if (hasVideo) {
    const sourceHeight = source.height ?? 0;
    const ceiling = sourceHeight > 0 ? sourceHeight : 720;
    const copy = source.videoCodec === undefined || isH264(source.videoCodec);
    const rungs = [...ladder]
      .filter((r) => r.height <= ceiling)
      .sort((a, b) => b.height - a.height);
    for (const rung of rungs) {
      plan.push({
        kind: 'video',
        name: rung.name,
        copy: false,
        width: evenWidth(rung.height, source),
        height: rung.height,
        videoBitrateKbps: rung.videoBitrateKbps,
      });
    }
    const topRate = rungs[0]?.videoBitrateKbps ?? 2800;
    plan.unshift({
      kind: 'video',
      name: SOURCE_RUNG,
      copy,
      width: source.width ?? 0,
      height: sourceHeight,
      videoBitrateKbps: source.videoBitrateKbps ?? Math.round(topRate * 1.5),
    });
  }
  if (hasAudio) {
    const audioKbps = ladder.find((r) => r.audioBitrateKbps !== undefined)?.audioBitrateKbps;
    plan.push({
      kind: 'audio',
      name: AUDIO_RENDITION,
      copy: source.audioCodec === undefined ? false : isAac(source.audioCodec),
      audioBitrateKbps: audioKbps ?? DEFAULT_AUDIO_BITRATE_KBPS,
    });
  }
  return plan;
}
