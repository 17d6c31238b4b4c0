import { startPipeline, type ShedPolicy } from '@neon/media';
import type { Logger } from '@neon/kit';
import type { LivePipeline, PipelineFactory } from './pipeline.js';

/** Builds broadcasts' pipelines with @neon/media (one ffmpeg ladder + our CMAF packager each). */
export function mediaPipelineFactory(o: {
  ffmpegPath: string;
  logger: Logger;
  partTargetMs: number;
  ladderDrainMs: number;
  /** False: never turn rungs off. */
  shed: Partial<ShedPolicy> | false;
}): PipelineFactory {
  return ({ outputDir, thumbnailPath, source }) => {
    const p = startPipeline({
      ffmpegPath: o.ffmpegPath,
      outputDir,
      thumbnailPath,
      partTargetMs: o.partTargetMs,
      ladderDrainMs: o.ladderDrainMs,
      shed: o.shed,
      logger: o.logger.child({ component: 'media' }),
      source: {
        ...(source.width ? { width: source.width } : {}),
        ...(source.height ? { height: source.height } : {}),
        ...(source.fps ? { fps: source.fps } : {}),
        ...(source.videoBitrateKbps ? { videoBitrateKbps: source.videoBitrateKbps } : {}),
        videoCodec: source.videoCodec,
        audioCodec: source.audioCodec,
      },
    });
    const pipeline: LivePipeline = {
      write: (flv) => p.write(Buffer.from(flv.buffer, flv.byteOffset, flv.byteLength)),
      discontinuity: () => p.discontinuity(),
      end: (options) => p.end(options),
      renditions: () =>
        p.renditions.map((r) => ({
          name: r.name,
          width: r.width,
          height: r.height,
          bitrateKbps: Math.round(r.bandwidth / 1000),
        })),
      masterPlaylist: () => p.masterPlaylist(),
      mediaPlaylist: (rendition, query, signal) => p.mediaPlaylist(rendition, query, signal),
      dashManifest: () => p.dashManifest(),
      health: () => p.health(),
      resource: (rendition, file, signal) => p.resource(rendition, file, signal),
      resourceNow: (rendition, file) => p.resourceNow(rendition, file),
      onReady: (fn) => void p.on('ready', fn),
      onError: (fn) =>
        void p.on('error', (e) => fn(Object.assign(new Error(e.message), { command: e.command }))),
      onExit: (fn) => void p.on('exit', (e) => fn(e.reason === 'failed')),
    };
    return pipeline;
  };
}
