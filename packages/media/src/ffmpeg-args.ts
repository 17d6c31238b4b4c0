import type { PlannedRendition } from './ladder.js';

export interface FfmpegArgsOptions {
  /** Part target in ms; ffmpeg cuts fragments a bit shorter so each fits in a part. */
  partTargetMs: number;
  /** x264 preset: `veryfast` by default, `superfast` when 2 cores must carry several broadcasts. */
  preset?: string;
  /** JPEG of the live picture, rewritten in place every `thumbnailIntervalSeconds`. */
  thumbnailPath?: string;
  thumbnailIntervalSeconds?: number;
  /**
   * Whether the input carries video, for the thumbnail branch; by default,
   * whether the plan has a video rendition (a process may carry only the thumbnail).
   */
  inputHasVideo?: boolean;
  /** First file descriptor of the outputs; rendition i is written to fd `firstFd + i`. */
  firstFd?: number;
}

/**
 * Fragment length given to ffmpeg (µs). ffmpeg closes a fragment on the first
 * sample at or past this length, so it aims at 80% of the part target: video
 * at 24–60 fps and AAC frames of 21–23 ms then land at or under the target.
 */
export function fragmentDurationUs(partTargetMs: number): number {
  return Math.round(partTargetMs * 800);
}

/** Index of each rendition's output pipe, in plan order. */
export function outputFds(plan: PlannedRendition[], firstFd = 3): Map<string, number> {
  return new Map(plan.map((r, i) => [r.name, firstFd + i]));
}

/**
 * The ffmpeg command line (without the binary) for a whole ladder: FLV on
 * stdin, decoded once, split and scaled, one fragmented MP4 per rendition on
 * its own pipe. Keyframes of encoded rungs are forced where the source has
 * them and timestamps pass through untouched, so every rendition's fragments
 * start at the same instants as the copied source.
 */
export function buildFfmpegArgs(plan: PlannedRendition[], opts: FfmpegArgsOptions): string[] {
  const firstFd = opts.firstFd ?? 3;
  const preset = opts.preset ?? 'veryfast';
  const args = [
    '-hide_banner',
    '-loglevel',
    'warning',
    '-nostdin',
    // Not `-fflags nobuffer`: it discards what was read while probing, the first second of media.
    '-analyzeduration',
    '1000000',
    '-f',
    'flv',
    '-i',
    'pipe:0',
  ];

  const encoded = plan.filter((r) => r.kind === 'video' && !r.copy);
  const thumbnail =
    opts.thumbnailPath !== undefined &&
    (opts.inputHasVideo ?? plan.some((r) => r.kind === 'video'));
  const branches = encoded.length + (thumbnail ? 1 : 0);
  if (branches > 0) {
    const graph: string[] = [];
    graph.push(
      branches === 1
        ? '[0:v:0]null[s0]'
        : `[0:v:0]split=${branches}${range(branches, (i) => `[s${i}]`)}`,
    );
    encoded.forEach((r, i) => {
      if (r.kind !== 'video') return;
      // Square pixels, so RESOLUTION in the playlists is what players draw.
      const scale =
        r.height > 0 ? `scale=${r.width > 0 ? r.width : -2}:${r.height},setsar=1` : 'null';
      graph.push(`[s${i}]${scale}[v${i}]`);
    });
    if (thumbnail) {
      const every = opts.thumbnailIntervalSeconds ?? 10;
      // Take the first frame at once, then one every interval.
      graph.push(
        `[s${encoded.length}]select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,${every})',scale=-2:360[thumb]`,
      );
    }
    args.push('-filter_complex', graph.join(';'));
  }

  const fragment = [
    '-f',
    'mp4',
    '-movflags',
    '+frag_keyframe+empty_moov+default_base_moof+cmaf',
    '-frag_duration',
    String(fragmentDurationUs(opts.partTargetMs)),
    '-flush_packets',
    '1',
  ];
  plan.forEach((r, i) => {
    const fd = `pipe:${firstFd + i}`;
    if (r.kind === 'audio') {
      args.push('-map', '0:a:0', '-vn');
      if (r.copy) args.push('-c:a', 'copy');
      else args.push('-c:a', 'aac', '-b:a', `${r.audioBitrateKbps}k`, '-ac', '2');
    } else if (r.copy) {
      args.push('-map', '0:v:0', '-an', '-c:v', 'copy');
    } else {
      const k = r.videoBitrateKbps;
      args.push(
        '-map',
        `[v${encoded.indexOf(r)}]`,
        '-an',
        '-fps_mode',
        'passthrough',
        '-c:v',
        'libx264',
        '-preset',
        preset,
        '-tune',
        'zerolatency',
        '-profile:v',
        'high',
        '-pix_fmt',
        'yuv420p',
        '-b:v',
        `${k}k`,
        '-maxrate',
        `${Math.round(k * 1.2)}k`,
        '-bufsize',
        `${k * 2}k`,
        '-force_key_frames',
        'source',
        // No keyframes of x264's own choosing: they would exist in this rung only.
        '-sc_threshold',
        '0',
        '-g',
        '600',
      );
    }
    args.push(...fragment, fd);
  });
  if (thumbnail && opts.thumbnailPath !== undefined) {
    args.push(
      '-map',
      '[thumb]',
      '-an',
      '-fps_mode',
      'passthrough',
      '-c:v',
      'mjpeg',
      '-q:v',
      '5',
      '-f',
      'image2',
      '-update',
      '1',
      '-y',
      opts.thumbnailPath,
    );
  }
  return args;
}

function range(n: number, f: (i: number) => string): string {
  return Array.from({ length: n }, (_, i) => f(i)).join('');
}
