import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BoxStreamSplitter, parseFragment, parseInit, type TrackInfo } from './bmff.js';
import { SOURCE_RUNG } from './ladder.js';
import {
  mediaPlaylistUri,
  recordedRenditions,
  renderMasterPlaylist,
  type RenditionInfo,
} from './playlist.js';

/** What `recoverRecording` rebuilt from a broadcast's folder. */
export interface RecoveredRecording {
  /** Seconds of the longest recorded video rendition (of the audio, when there is no video). */
  durationSeconds: number;
  masterPath: string;
  /** Wall-clock ms where the recorded media ends, when the playlists carry program date-times. */
  endedAt: number | null;
  /** The renditions the rebuilt master playlist lists. */
  renditions: RenditionInfo[];
}

interface RecordedSegment {
  uri: string;
  map: string;
  duration: number;
  discontinuity: boolean;
  programDateTime: number | null;
  bytes: number;
}

const fixed = (n: number, digits = 3): string => n.toFixed(digits);

/**
 * Rebuilds the VOD of a broadcast whose process died mid-way, from what is
 * on disk: each rendition's growing playlist (rewritten as segments land),
 * keeping the segments whose files are there, closed with ENDLIST, and a
 * master playlist made from the init sections and the segment sizes. Returns
 * null when nothing playable was recorded.
 */
export async function recoverRecording(dir: string): Promise<RecoveredRecording | null> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return null;
  }
  const recovered: { info: RenditionInfo; durationSeconds: number; endsAt: number | null }[] = [];
  for (const name of entries) {
    const r = await recoverRendition(join(dir, name), name);
    if (r) recovered.push(r);
  }
  if (recovered.length === 0) return null;
  recovered.sort((a, b) => order(a.info) - order(b.info) || b.info.height - a.info.height);
  const listed = recordedRenditions(recovered);
  const masterPath = join(dir, 'master.m3u8');
  await writeAtomic(masterPath, renderMasterPlaylist(listed, { vod: true }));
  const ends = recovered.flatMap((r) => (r.endsAt === null ? [] : [r.endsAt]));
  // The picture sets how long it plays; audio may have got a segment further before the crash.
  const video = listed.filter((r) => r.kind === 'video').map((r) => r.name);
  const timed = video.length > 0 ? recovered.filter((r) => video.includes(r.info.name)) : recovered;
  return {
    durationSeconds: Math.max(...timed.map((r) => r.durationSeconds)),
    masterPath,
    endedAt: ends.length > 0 ? Math.max(...ends) : null,
    renditions: listed,
  };
}

/** Source first, then the other video rungs (tallest first), audio last. */
function order(info: RenditionInfo): number {
  if (info.kind === 'audio') return 2;
  return info.name === SOURCE_RUNG ? 0 : 1;
}

async function recoverRendition(
  folder: string,
  name: string,
): Promise<{ info: RenditionInfo; durationSeconds: number; endsAt: number | null } | null> {
  let text: string;
  try {
    text = await readFile(join(folder, 'index.m3u8'), 'utf8');
  } catch {
    return null;
  }
  const segments: RecordedSegment[] = [];
  let map: string | null = null;
  let discontinuity = false;
  let pdt: number | null = null;
  let duration: number | null = null;
  let gap = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-MAP:')) map = /URI="([^"]+)"/.exec(line)?.[1] ?? null;
    else if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      const t = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
      pdt = Number.isFinite(t) ? t : null;
    } else if (line.startsWith('#EXTINF:')) {
      const d = Number.parseFloat(line.slice('#EXTINF:'.length));
      duration = Number.isFinite(d) && d > 0 ? d : null;
    } else if (line !== '' && !line.startsWith('#')) {
      const bytes = map !== null && duration !== null ? await sizeOf(join(folder, line)) : 0;
      if (map !== null && duration !== null && bytes > 0 && /^s\d+\.m4s$/.test(line)) {
        segments.push({
          uri: line,
          map,
          duration,
          // A segment missing from disk leaves a gap the player must be told about.
          discontinuity: segments.length > 0 && (discontinuity || gap),
          programDateTime: pdt,
          bytes,
        });
        gap = false;
      } else if (segments.length > 0) {
        gap = true;
      }
      discontinuity = false;
      pdt = null;
      duration = null;
    }
  }
  const first = segments[0];
  if (first === undefined) return null;
  let track: TrackInfo;
  try {
    track = parseInit(await readFile(join(folder, first.map)));
  } catch {
    return null;
  }
  if (track.handler !== 'vide' && track.handler !== 'soun') return null;
  await writeAtomic(join(folder, 'index.m3u8'), renderRecovered(segments, track));

  const seconds = segments.reduce((a, s) => a + s.duration, 0);
  const bits = segments.reduce((a, s) => a + s.bytes * 8, 0);
  const peak = Math.max(...segments.map((s) => (s.bytes * 8) / s.duration));
  const last = segments.at(-1);
  const endsAt = last?.programDateTime != null ? last.programDateTime + last.duration * 1000 : null;
  const base = {
    name,
    uri: mediaPlaylistUri(name),
    bandwidth: Math.round(peak),
    averageBandwidth: Math.round(bits / seconds),
    codecs: track.codec,
  };
  const info: RenditionInfo =
    track.handler === 'soun'
      ? {
          ...base,
          kind: 'audio',
          width: 0,
          height: 0,
          frameRate: null,
          sampleRate: track.sampleRate || 48000,
          channels: track.channels || 2,
        }
      : {
          ...base,
          kind: 'video',
          width: track.width,
          height: track.height,
          frameRate: await frameRate(join(folder, first.uri), track),
        };
  return { info, durationSeconds: seconds, endsAt };
}

function renderRecovered(segments: RecordedSegment[], track: TrackInfo): string {
  const target = Math.max(1, ...segments.map((s) => Math.ceil(s.duration - 0.001)));
  const firstMsn = Number(/^s(\d+)\.m4s$/.exec(segments[0]?.uri ?? '')?.[1] ?? 0);
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${target}`,
    `#EXT-X-MEDIA-SEQUENCE:${firstMsn}`,
    '#EXT-X-PLAYLIST-TYPE:VOD',
  ];
  if (track.handler === 'vide') lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  let map: string | null = null;
  for (const s of segments) {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (s.map !== map) {
      lines.push(`#EXT-X-MAP:URI="${s.map}"`);
      map = s.map;
    }
    if (s.programDateTime !== null)
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTime).toISOString()}`);
    lines.push(`#EXTINF:${fixed(s.duration, 5)},`, s.uri);
  }
  lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

const COMMON_RATES = [23.976, 24, 25, 29.97, 30, 48, 50, 59.94, 60];

/**
 * Frames per second over a whole segment, snapped to a common rate when
 * within 0.5% (a copied FLV source has millisecond timestamps: 33, 33, 34 ms…).
 */
async function frameRate(segmentPath: string, track: TrackInfo): Promise<number | null> {
  try {
    let frames = 0;
    let ticks = 0;
    for (const unit of new BoxStreamSplitter().push(await readFile(segmentPath))) {
      if (unit.kind !== 'fragment') continue;
      const info = parseFragment(unit.bytes, track);
      frames += info.samples.length;
      ticks += info.duration;
    }
    if (frames === 0 || ticks <= 0) return null;
    const fps = (frames * track.timescale) / ticks;
    const nearest = COMMON_RATES.reduce((a, r) => (Math.abs(fps - r) < Math.abs(fps - a) ? r : a));
    return Math.abs(fps - nearest) <= nearest * 0.005 ? nearest : Math.round(fps * 1000) / 1000;
  } catch {
    return null;
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}
