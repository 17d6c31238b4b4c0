import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Bus } from '@neon/bus';
import type { Logger } from '@neon/kit';
import { recoverRecording, type RecoveredRecording } from '@neon/media';
import type { VideoRepository, VideoRow } from './video.repository.js';

/**
 * Broadcasts still open in the database when the service starts were cut
 * short by a crash (one process owns every broadcast in the embedded shape).
 * What they recorded is on disk, its playlists rewritten as each segment
 * landed: each becomes an ended video of its real length, or failed when
 * nothing playable was recorded.
 */
export async function recoverBroadcasts(o: RecoveryDeps): Promise<void> {
  for (const v of await o.videos.listOpen()) await recoverBroadcast(o, v);
}

export interface RecoveryDeps {
  videos: VideoRepository;
  mediaDir: string;
  logger: Logger;
  bus: Bus;
}

/**
 * Closes one broadcast left open: ended with the recording its folder holds,
 * or failed when nothing playable is there; its end is announced.
 */
export async function recoverBroadcast(o: RecoveryDeps, v: VideoRow): Promise<void> {
  const dir = join(o.mediaDir, v.id);
  let recording: RecoveredRecording | null = null;
  try {
    recording = await recoverRecording(dir);
  } catch (err) {
    o.logger.error({ err, broadcastId: v.id }, 'could not read what a broadcast recorded');
  }
  const durationSeconds = recording?.durationSeconds ?? 0;
  const endedAt = recording
    ? new Date(recording.endedAt ?? v.started_at.getTime() + durationSeconds * 1000)
    : new Date();
  try {
    if (recording && v.renditions.length === 0) {
      await o.videos.setRenditions(
        v.id,
        recording.renditions
          .filter((r) => r.kind === 'video')
          .map((r) => ({
            name: r.name,
            width: r.width,
            height: r.height,
            bitrateKbps: Math.round(r.bandwidth / 1000),
          })),
      );
    }
    await o.videos.finish(v.id, {
      state: recording ? 'ended' : 'failed',
      endedAt,
      durationSeconds,
      hasThumbnail: recording !== null && existsSync(join(dir, 'thumbnail.jpg')),
      masterPath: recording ? relative(dir, recording.masterPath) : null,
    });
    await o.bus.publish('live.stream.ended.v1', {
      broadcastId: v.id,
      channel: v.channel,
      userId: v.user_id,
      startedAt: v.started_at.toISOString(),
      endedAt: endedAt.toISOString(),
      durationSeconds,
    });
  } catch (err) {
    o.logger.error({ err, broadcastId: v.id }, 'could not close a broadcast left open');
    return;
  }
  if (recording)
    o.logger.warn(
      { broadcastId: v.id, channel: v.channel, durationSeconds },
      'recovered the recording of a broadcast cut short by a previous run',
    );
  else
    o.logger.warn(
      { broadcastId: v.id, channel: v.channel },
      'closed a broadcast left open by a previous run: nothing was recorded',
    );
}
