import { MediaRequestError } from './errors.js';
import { initUri, partUri, segmentUri, type RenditionPackager, type Segment } from './packager.js';

/** What the master playlist and the MPD say about one rendition. */
export interface RenditionInfo {
  name: string;
  kind: 'video' | 'audio';
  width: number;
  height: number;
  /** Peak bits/s (nominal until segments are measured), audio included for video variants in HLS. */
  bandwidth: number;
  averageBandwidth: number;
  codecs: string;
  frameRate: number | null;
  /** Media playlist URI relative to the master playlist. */
  uri: string;
  sampleRate?: number;
  channels?: number;
}

export const mediaPlaylistUri = (rendition: string): string => `${rendition}/index.m3u8`;

const fixed = (n: number, digits = 3): string => n.toFixed(digits);

function isoDate(ms: number): string {
  return new Date(Math.round(ms)).toISOString();
}

/**
 * A live LL-HLS media playlist: the window of complete segments, parts for
 * the last few and the open one, a preload hint for the next part. With
 * `vod`, every segment of the broadcast and no low-latency tags.
 */
/** Where another rendition's live edge is, for EXT-X-RENDITION-REPORT. */
export interface RenditionReport {
  uri: string;
  packager: RenditionPackager;
}

export function renderMediaPlaylist(
  p: RenditionPackager,
  opts: {
    vod?: boolean;
    /** With `vod`: a recording still growing (EVENT, no ENDLIST), as kept on disk while live. */
    open?: boolean;
    /** With `vod`: list segments up to this one only (those known to be on disk). */
    throughMsn?: number;
    reports?: RenditionReport[];
  } = {},
): string {
  const vod = opts.vod ?? false;
  const through = opts.throughMsn ?? Infinity;
  const segments = vod ? p.segments.filter((s) => s.complete && s.msn <= through) : p.windowed();
  const first = segments[0];
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${vod ? 7 : 9}`,
    `#EXT-X-TARGETDURATION:${p.targetDuration}`,
  ];
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${first?.msn ?? 0}`);
  const discontinuitySequence = first
    ? p.segments.filter((s) => s.msn < first.msn && s.discontinuity).length
    : 0;
  if (discontinuitySequence > 0)
    lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuitySequence}`);
  if (vod) {
    lines.push(`#EXT-X-PLAYLIST-TYPE:${opts.open ? 'EVENT' : 'VOD'}`);
  } else {
    const partHoldBack = p.partTarget * 3;
    lines.push(
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${fixed(partHoldBack)},HOLD-BACK=${fixed(p.targetDuration * 3)}`,
      `#EXT-X-PART-INF:PART-TARGET=${fixed(p.partTarget)}`,
    );
  }
  if (p.track?.handler === 'vide') lines.push('#EXT-X-INDEPENDENT-SEGMENTS');

  const complete = segments.filter((s) => s.complete);
  const partsFrom = complete.at(-2)?.msn ?? complete[0]?.msn ?? 0;
  let mapEpoch = -1;
  for (const s of segments) {
    if (s.discontinuity && s !== first) lines.push('#EXT-X-DISCONTINUITY');
    if (s.epoch !== mapEpoch) {
      lines.push(`#EXT-X-MAP:URI="${initUri(s.epoch)}"`);
      mapEpoch = s.epoch;
    }
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${isoDate(s.programDateTime)}`);
    if (!vod && (s.msn >= partsFrom || !s.complete)) lines.push(...partLines(s));
    if (s.complete) lines.push(`#EXTINF:${fixed(s.duration, 5)},`, segmentUri(s.msn));
  }
  if (vod ? !opts.open : p.ended) {
    lines.push('#EXT-X-ENDLIST');
  } else if (!vod && p.hasInit) {
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${partUri(p.nextPart)}"`);
    // Lets a player switching rendition ask for the right part straight away.
    for (const report of opts.reports ?? []) {
      const last = report.packager.lastPart();
      if (last === null || last.index < 0) continue;
      lines.push(
        `#EXT-X-RENDITION-REPORT:URI="${report.uri}",LAST-MSN=${last.msn},LAST-PART=${last.index}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

function partLines(s: Segment): string[] {
  return s.parts.map(
    (part) =>
      `#EXT-X-PART:DURATION=${fixed(part.duration, 5)},URI="${partUri(part.seq)}"${part.independent ? ',INDEPENDENT=YES' : ''}`,
  );
}

/** The multivariant playlist: video variants with an audio group, or audio alone. */
export function renderMasterPlaylist(
  renditions: RenditionInfo[],
  opts: { vod?: boolean } = {},
): string {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${opts.vod ? 7 : 9}`, '#EXT-X-INDEPENDENT-SEGMENTS'];
  const audio = renditions.find((r) => r.kind === 'audio');
  const video = renditions.filter((r) => r.kind === 'video');
  if (audio && video.length > 0) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="${audio.channels ?? 2}",URI="${audio.uri}"`,
    );
  }
  for (const v of video) {
    const bandwidth = v.bandwidth + (audio?.bandwidth ?? 0);
    const average = v.averageBandwidth + (audio?.averageBandwidth ?? 0);
    const attrs = [
      `BANDWIDTH=${Math.round(bandwidth)}`,
      `AVERAGE-BANDWIDTH=${Math.round(average)}`,
      `RESOLUTION=${v.width}x${v.height}`,
      ...(v.frameRate ? [`FRAME-RATE=${fixed(v.frameRate)}`] : []),
      `CODECS="${[v.codecs, ...(audio ? [audio.codecs] : [])].join(',')}"`,
      ...(audio ? ['AUDIO="audio"'] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  if (video.length === 0 && audio) {
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${Math.round(audio.bandwidth)},AVERAGE-BANDWIDTH=${Math.round(audio.averageBandwidth)},CODECS="${audio.codecs}"`,
      audio.uri,
    );
  }
  return lines.join('\n') + '\n';
}

/** A recorded video rendition shorter than this share of the longest is left out of the VOD. */
export const RECORDING_MIN_SHARE = 0.98;

/**
 * What a recording's multivariant playlist lists: renditions with media,
 * less any video rendition shorter than 98% of the longest one (a transcoder
 * that fell behind or was stopped at the end), since a player on that
 * rendition would stop before the recording does. Audio is kept: it is
 * recorded with the source.
 */
export function recordedRenditions(
  list: { info: RenditionInfo; durationSeconds: number }[],
): RenditionInfo[] {
  const withMedia = list.filter((r) => r.durationSeconds > 0);
  const longest = Math.max(
    0,
    ...withMedia.filter((r) => r.info.kind === 'video').map((r) => r.durationSeconds),
  );
  return withMedia
    .filter((r) => r.info.kind === 'audio' || r.durationSeconds >= longest * RECORDING_MIN_SHARE)
    .map((r) => r.info);
}

/** `_HLS_msn`, `_HLS_part` and `_HLS_skip` as the origin parsed them from the query. */
export interface MediaPlaylistQuery {
  msn?: number;
  part?: number;
  skip?: string;
}

/**
 * Blocking playlist reload (draft-pantos-hls-rfc8216bis §6.2.5.2): answers
 * as soon as the playlist holds segment `msn` (or its part `part`); 400 for
 * a malformed or too far ahead request; 503 when nothing came within three
 * target durations. Without `msn` it answers at once (or once the first part
 * exists, while the broadcast is starting).
 */
export async function blockingPlaylist(
  p: RenditionPackager,
  q: MediaPlaylistQuery,
  signal?: AbortSignal,
  timeoutMs = p.targetDuration * 3000,
  reports: RenditionReport[] = [],
): Promise<string> {
  for (const [key, value] of [
    ['_HLS_msn', q.msn],
    ['_HLS_part', q.part],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new MediaRequestError(
        'LIVE_PLAYLIST_REQUEST_INVALID',
        `${key} must be a non-negative integer`,
      );
    }
  }
  // Delta updates are not offered (no CAN-SKIP-UNTIL), so a valid _HLS_skip gets the full playlist.
  if (q.skip !== undefined && q.skip !== 'YES' && q.skip !== 'v2') {
    throw new MediaRequestError('LIVE_PLAYLIST_REQUEST_INVALID', '_HLS_skip must be YES or v2');
  }
  p.checkRequest(q.msn, q.part);
  const msn = q.msn;
  if (msn !== undefined) await p.waitFor(() => p.satisfies(msn, q.part), timeoutMs, signal);
  else await p.waitFor(() => p.ended || p.segments.length > 0, timeoutMs, signal);
  return renderMediaPlaylist(p, { reports });
}
