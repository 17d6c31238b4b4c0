import { type RenditionPackager } from './packager.js';
import { type RenditionInfo } from './playlist.js';

export interface DashInput {
  info: RenditionInfo;
  packager: RenditionPackager;
}

const AVAILABILITY_MARGIN_MS = 250;

const seconds = (s: number): string => `PT${Math.max(0, s).toFixed(3)}S`;
const iso = (ms: number): string => new Date(Math.round(ms)).toISOString();
const xml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * A dynamic MPD over the very segment files the HLS playlists name: one
 * Period per timeline (a restart or a returning publisher opens a new one),
 * SegmentTemplate + SegmentTimeline with `$Number$` = the media sequence
 * number. Segment URLs are `<rendition>/s<n>.m4s` relative to the MPD.
 */
export function renderMpd(
  inputs: DashInput[],
  opts: { now: number; ended: boolean; partTargetMs: number; segmentTargetMs: number },
): string | null {
  const withMedia = inputs.filter((i) => i.packager.segments.some((s) => s.complete));
  if (withMedia.length === 0) return null;
  const epochStarts = new Map<number, number>();
  for (const { packager } of withMedia) {
    for (const e of packager.epochs) {
      const start = e.wallStart ?? opts.now;
      const prev = epochStarts.get(e.index);
      epochStarts.set(e.index, prev === undefined ? start : Math.min(prev, start));
    }
  }
  const origin = epochStarts.get(0) ?? opts.now;
  // A segment is complete one fragment after its last sample (when the next
  // segment starts), so its availability is announced that much later.
  const ast = origin + opts.partTargetMs + AVAILABILITY_MARGIN_MS;
  const target = opts.segmentTargetMs / 1000;
  const maxDuration = Math.max(...withMedia.map((i) => i.packager.targetDuration));
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" ` +
      (opts.ended
        ? `type="static" mediaPresentationDuration="${seconds(totalDuration(withMedia))}" `
        : `type="dynamic" availabilityStartTime="${iso(ast)}" publishTime="${iso(opts.now)}" minimumUpdatePeriod="${seconds(target)}" timeShiftBufferDepth="${seconds(target * 6)}" suggestedPresentationDelay="${seconds(target * 1.5)}" `) +
      `maxSegmentDuration="${seconds(maxDuration)}" minBufferTime="${seconds(target)}">`,
  ];
  if (!opts.ended) {
    lines.push(
      '  <ServiceDescription id="0">',
      `    <Latency referenceId="0" target="${Math.round(target * 1500)}" min="${Math.round(target * 750)}" max="${Math.round(target * 3000)}"/>`,
      '    <PlaybackRate min="0.96" max="1.04"/>',
      '  </ServiceDescription>',
    );
  }
  const epochs = [...epochStarts.keys()].sort((a, b) => a - b);
  for (const epoch of epochs) {
    const sets = withMedia
      .map((i) => ({
        ...i,
        segs: i.packager.segments.filter(
          (s) => s.complete && s.epoch === epoch && (s.data !== null || opts.ended),
        ),
      }))
      .filter((i) => i.segs.length > 0);
    if (sets.length === 0) continue;
    const start = ((epochStarts.get(epoch) ?? origin) - origin) / 1000;
    lines.push(`  <Period id="p${epoch}" start="${seconds(start)}">`);
    for (const kind of ['video', 'audio'] as const) {
      const reps = sets.filter((s) => s.info.kind === kind);
      if (reps.length === 0) continue;
      lines.push(
        `    <AdaptationSet id="${kind === 'video' ? 0 : 1}" contentType="${kind}" mimeType="${kind}/mp4" segmentAlignment="true" startWithSAP="1">`,
      );
      for (const r of reps) {
        const e = r.packager.epochs[epoch];
        if (e === undefined) continue;
        const info = r.info;
        const attrs =
          kind === 'video'
            ? `width="${info.width}" height="${info.height}"${info.frameRate ? ` frameRate="${Math.round(info.frameRate * 1000)}/1000"` : ''}`
            : `audioSamplingRate="${info.sampleRate ?? 48000}"`;
        lines.push(
          `      <Representation id="${xml(info.name)}" bandwidth="${Math.round(info.bandwidth)}" codecs="${xml(info.codecs)}" ${attrs}>`,
        );
        if (kind === 'audio') {
          lines.push(
            `        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="${info.channels ?? 2}"/>`,
          );
        }
        const first = r.segs[0];
        lines.push(
          `        <SegmentTemplate timescale="${e.track.timescale}" presentationTimeOffset="${e.mediaStart}" startNumber="${first?.msn ?? 0}" initialization="$RepresentationID$/init-${epoch}.mp4" media="$RepresentationID$/s$Number$.m4s">`,
          '          <SegmentTimeline>',
        );
        let expected = -1;
        for (const s of r.segs) {
          const t = s.startTime === expected ? '' : ` t="${s.startTime}"`;
          lines.push(`            <S${t} d="${s.durationTicks}"/>`);
          expected = s.startTime + s.durationTicks;
        }
        lines.push(
          '          </SegmentTimeline>',
          '        </SegmentTemplate>',
          '      </Representation>',
        );
      }
      lines.push('    </AdaptationSet>');
    }
    lines.push('  </Period>');
  }
  if (!opts.ended)
    lines.push(
      `  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="${iso(opts.now)}"/>`,
    );
  lines.push('</MPD>');
  return lines.join('\n') + '\n';
}

function totalDuration(inputs: DashInput[]): number {
  return Math.max(
    ...inputs.map((i) =>
      i.packager.segments.filter((s) => s.complete).reduce((sum, s) => sum + s.duration, 0),
    ),
  );
}
