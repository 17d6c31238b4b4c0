import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import type { Problem, StreamKeyResponse, StreamSettings, Video } from '@neon/contracts';
import type { Client } from '@neon/kit';
import { syntheticSourceArgs, waitFor } from '@neon/testing';
import { variants, type Harness } from './harness.js';

const BUCKET = 'neon-recordings';

/** An S3-protocol server on loopback, in a folder of its own; `restart` comes back on the same port. */
class LocalS3 {
  private server: S3rver | null = null;
  port = 0;
  readonly dir = mkdtempSync(join(tmpdir(), 'neon-s3-'));

  async start(): Promise<void> {
    if (this.server) return;
    this.server = new S3rver({
      address: '127.0.0.1',
      port: this.port,
      silent: true,
      directory: this.dir,
      configureBuckets: [{ name: BUCKET, configs: [] }],
    });
    this.port = (await this.server.run()).port;
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = null;
  }

  get env(): Record<string, string> {
    return {
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: `http://127.0.0.1:${this.port}`,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_UPLOAD_INTERVAL_MS: '200',
    };
  }

  client(): S3Client {
    return new S3Client({
      endpoint: `http://127.0.0.1:${this.port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  }

  async keys(prefix: string): Promise<string[]> {
    const c = this.client();
    try {
      const out = await c.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      return (out.Contents ?? []).map((o) => o.Key!).sort();
    } finally {
      c.destroy();
    }
  }

  async object(key: string): Promise<Buffer> {
    const c = this.client();
    try {
      const out = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } finally {
      c.destroy();
    }
  }

  async put(key: string, body: Buffer): Promise<void> {
    const c = this.client();
    try {
      await c.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    } finally {
      c.destroy();
    }
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const DAY_MS = 86_400_000;

/** A finished broadcast as the pipeline leaves it on disk, with its row; ended `endedDaysAgo` ago. */
async function recordedVideo(
  h: Harness,
  owner: Client,
  o: { id: string; endedDaysAgo: number; keep?: boolean },
): Promise<{ dir: string; files: Record<string, Buffer> }> {
  const dir = join(h.dataDir, 'media', o.id);
  const files: Record<string, Buffer> = {
    'master.m3u8': Buffer.from('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n'),
    '720p/index.m3u8': Buffer.from(
      '#EXTM3U\n#EXT-X-MAP:URI="init-0.mp4"\n#EXTINF:2.0,\nseg1.m4s\n#EXT-X-ENDLIST\n',
    ),
    '720p/init-0.mp4': Buffer.from('init of the source rung'),
    '720p/seg1.m4s': Buffer.from(`segment of ${o.id}`),
    'thumbnail.jpg': Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
  };
  // The row first, as a broadcast has it before its pipeline writes anything.
  await h.platform.db.query(
    `INSERT INTO live.videos (id, user_id, channel, title, state, started_at, ended_at, duration_seconds, has_thumbnail, master_path, keep)
     VALUES ($1, $2, $3, 'Old stream', 'ended', $4, $5, 2, true, 'master.m3u8', $6)`,
    [
      o.id,
      owner.id,
      owner.username,
      new Date(Date.now() - o.endedDaysAgo * DAY_MS - 60_000),
      new Date(Date.now() - o.endedDaysAgo * DAY_MS),
      o.keep ?? false,
    ],
  );
  mkdirSync(join(dir, '720p'), { recursive: true });
  for (const [path, body] of Object.entries(files)) writeFileSync(join(dir, path), body);
  return { dir, files };
}

function counter(h: Harness, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = h.live.server.metrics.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  return metric.get().then((m) => {
    const v = m.values.find((x) =>
      Object.entries(labels).every(([k, want]) => x.labels[k] === want),
    );
    return v?.value ?? 0;
  });
}

for (const variant of variants()) {
  describe(
    `recordings in an S3 bucket (${variant.name})`,
    { skip: variant.skip, timeout: 180_000 },
    () => {
      const s3 = new LocalS3();
      before(() => s3.start());
      after(() => s3.close());

      it('uploads segments while live, the rest at the end, then plays the VOD from the bucket and deletes it there', async () => {
        const h = await variant.open({ ...s3.env, LIVE_ENDED_PLAYLIST_SECONDS: '1' });
        let encoder: ChildProcess | null = null;
        try {
          const user = h.user();
          const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, auth = true) =>
            h.live.server.inject({ method, url, ...(auth ? { headers: h.as(user) } : {}) });
          const { streamKey } = (
            await inject('GET', '/api/v1/me/stream-key')
          ).json<StreamKeyResponse>();
          encoder = spawn(
            'ffmpeg',
            syntheticSourceArgs(`rtmp://127.0.0.1:${h.live.rtmpPort()}/live/${streamKey}`, {
              width: 284,
              height: 160,
              videoKbps: 300,
              audioKbps: 64,
            }),
            { stdio: ['ignore', 'ignore', 'ignore'] },
          );
          await waitFor(
            async () =>
              (await inject('GET', `/hls/${user.username}/master.m3u8`, false)).statusCode === 200,
            { timeoutMs: 30_000, intervalMs: 200, what: 'the broadcast to be live' },
          );
          const { broadcastId: id } = (
            await inject('GET', '/api/v1/me/stream')
          ).json<StreamSettings>();
          assert.ok(id);
          const prefix = `videos/${id}/`;

          // While live: completed segments are in the bucket, the playlists not yet.
          const whileLive = await waitFor(
            async () => {
              const keys = await s3.keys(prefix);
              return keys.filter((k) => k.endsWith('.m4s')).length >= 3 ? keys : false;
            },
            { timeoutMs: 30_000, intervalMs: 300, what: 'segments uploaded while live' },
          );
          assert.equal(
            (await inject('GET', '/api/v1/me/stream')).json<StreamSettings>().live,
            true,
          );
          assert.ok(
            whileLive.some((k) => /\/init-\d+\.mp4$/.test(k)),
            'the init section goes up with the first segment',
          );
          assert.ok(!whileLive.some((k) => k.endsWith('.m3u8')), 'no playlist before the end');

          const ended = await inject('POST', '/api/v1/me/stream/end');
          assert.equal(ended.statusCode, 200, ended.body);
          const localDir = join(h.dataDir, 'media', id);
          await waitFor(() => !existsSync(localDir), {
            timeoutMs: 30_000,
            intervalMs: 200,
            what: 'the local copy to go once the bucket has it all',
          });
          const stored = await s3.keys(prefix);
          assert.ok(stored.includes(`${prefix}master.m3u8`), stored.join(' '));

          // Every playlist the master names, and every file each names, plays through the origin
          // byte for byte as the bucket holds it.
          const master = await inject('GET', `/vod/${id}/master.m3u8`, false);
          assert.equal(master.statusCode, 200);
          assert.equal(master.headers['content-type'], 'application/vnd.apple.mpegurl');
          assert.equal(master.body, (await s3.object(`${prefix}master.m3u8`)).toString());
          const playlists = master.body.split('\n').filter((l) => l && !l.startsWith('#'));
          const audio = [...master.body.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!);
          assert.ok(playlists.length >= 1);
          let segments = 0;
          for (const playlist of [...playlists, ...audio]) {
            const res = await inject('GET', `/vod/${id}/${playlist}`, false);
            assert.equal(res.statusCode, 200, playlist);
            assert.match(res.body, /#EXT-X-ENDLIST/);
            const folder = playlist.split('/').slice(0, -1).join('/');
            const named = [
              ...[...res.body.matchAll(/#EXT-X-MAP:URI="([^"]+)"/g)].map((m) => m[1]!),
              ...res.body.split('\n').filter((l) => l && !l.startsWith('#')),
            ];
            for (const file of new Set(named)) {
              const media = await inject('GET', `/vod/${id}/${folder}/${file}`, false);
              assert.equal(media.statusCode, 200, `${folder}/${file}`);
              assert.equal(media.headers['cache-control'], 'public, max-age=31536000, immutable');
              assert.ok(
                media.rawPayload.equals(await s3.object(`${prefix}${folder}/${file}`)),
                `${folder}/${file} as stored`,
              );
              segments += 1;
            }
          }
          assert.ok(segments >= 4, `${segments} media files played`);
          const video = (await inject('GET', `/api/v1/videos/${id}`, false)).json<Video>();
          if (video.thumbnailUrl) {
            const thumb = await inject('GET', video.thumbnailUrl, false);
            assert.equal(thumb.statusCode, 200);
            assert.equal(thumb.headers['content-type'], 'image/jpeg');
          }
          // A path out of the video's folder is refused in the bucket as on disk.
          for (const bad of [`/vod/${id}/..%2F..%2Fother/master.m3u8`, `/vod/${id}/.hidden.m3u8`])
            assert.equal((await inject('GET', bad, false)).statusCode, 404, bad);
          assert.ok((await counter(h, 'live_recording_uploads_total', { outcome: 'ok' })) >= 5);

          // Deleting the video deletes its objects; nothing of it is served after.
          assert.equal((await inject('DELETE', `/api/v1/videos/${id}`)).statusCode, 204);
          assert.deepEqual(await s3.keys(prefix), []);
          assert.equal((await inject('GET', `/vod/${id}/master.m3u8`, false)).statusCode, 404);
        } finally {
          if (encoder && encoder.exitCode === null) encoder.kill('SIGKILL');
          await h.close();
        }
      });

      it('keeps the local copy while the bucket is down and says so, then uploads it when it is back', async () => {
        const h = await variant.open(s3.env);
        try {
          const owner = h.user();
          await s3.stop();
          const id = '01900000-0000-7000-8000-00000000a001';
          const { dir, files } = await recordedVideo(h, owner, { id, endedDaysAgo: 0 });
          await waitFor(
            async () =>
              (await counter(h, 'live_recording_uploads_total', { outcome: 'failed' })) > 0,
            { timeoutMs: 20_000, intervalMs: 100, what: 'a failed upload' },
          );
          // Logged once the pass's other uploads under way have failed too.
          const warned = await waitFor(
            () => h.logs().find((l) => String(l.msg).startsWith('could not upload')),
            { timeoutMs: 20_000, intervalMs: 100, what: 'the failure logged' },
          );
          assert.equal(warned.videoId, id);
          assert.ok((await counter(h, 'live_recording_upload_backlog')) > 0);
          // Nothing is lost and viewers still get the video, from the disk.
          assert.ok(existsSync(join(dir, '720p', 'seg1.m4s')));
          const fromDisk = await h.live.server.inject(`/vod/${id}/720p/seg1.m4s`);
          assert.equal(fromDisk.statusCode, 200);
          assert.ok(fromDisk.rawPayload.equals(files['720p/seg1.m4s']!));

          await s3.start();
          await waitFor(() => !existsSync(dir), {
            timeoutMs: 30_000,
            intervalMs: 200,
            what: 'the retried upload to succeed and the local copy to go',
          });
          assert.deepEqual(
            await s3.keys(`videos/${id}/`),
            Object.keys(files)
              .map((f) => `videos/${id}/${f}`)
              .sort(),
          );
          for (const [path, body] of Object.entries(files)) {
            const res = await h.live.server.inject(`/vod/${id}/${path}`);
            assert.equal(res.statusCode, 200, path);
            assert.ok(res.rawPayload.equals(body), path);
          }
          assert.equal(await counter(h, 'live_recording_upload_backlog'), 0);
        } finally {
          await s3.start();
          await h.close();
        }
      });

      it('does not upload again what the bucket already holds (a replica restarted mid-way)', async () => {
        const h = await variant.open(s3.env);
        try {
          const id = '01900000-0000-7000-8000-00000000d001';
          // As a previous run left it: one segment up whole, and an init section of another size.
          await s3.put(`videos/${id}/720p/seg1.m4s`, Buffer.from(`segment of ${id}`));
          await s3.put(`videos/${id}/720p/init-0.mp4`, Buffer.from('a different init'));
          const { dir, files } = await recordedVideo(h, h.user(), { id, endedDaysAgo: 0 });
          await waitFor(() => !existsSync(dir), { timeoutMs: 20_000, what: 'the upload' });
          // The master, the playlist, the thumbnail and the init section; not the segment.
          assert.equal(await counter(h, 'live_recording_uploads_total', { outcome: 'ok' }), 4);
          for (const [path, body] of Object.entries(files))
            assert.ok((await s3.object(`videos/${id}/${path}`)).equals(body), path);
        } finally {
          await h.close();
        }
      });

      it('deletes recordings past the retention period, but those their owners keep', async () => {
        const h = await variant.open({ ...s3.env, VOD_RETENTION_DAYS: '7' });
        try {
          const owner = h.user();
          const other = h.user();
          const ids = {
            expired: '01900000-0000-7000-8000-00000000b001',
            kept: '01900000-0000-7000-8000-00000000b002',
            recent: '01900000-0000-7000-8000-00000000b003',
          };
          await recordedVideo(h, owner, { id: ids.expired, endedDaysAgo: 8 });
          await recordedVideo(h, owner, { id: ids.kept, endedDaysAgo: 8, keep: true });
          const recent = await recordedVideo(h, owner, { id: ids.recent, endedDaysAgo: 1 });
          await waitFor(
            async () => Object.values(ids).every((id) => !existsSync(join(h.dataDir, 'media', id))),
            { timeoutMs: 20_000, intervalMs: 200, what: 'the three videos in the bucket' },
          );
          const get = (id: string) => h.live.server.inject(`/api/v1/videos/${id}`);
          const patch = (id: string, payload: unknown, as: Client = owner) =>
            h.live.server.inject({
              method: 'PATCH',
              url: `/api/v1/videos/${id}`,
              headers: h.as(as),
              payload: payload as object,
            });

          const shown = (await get(ids.recent)).json<Video>();
          assert.equal(shown.keep, false);
          const endedAt = Date.now() - DAY_MS;
          assert.ok(Math.abs(Date.parse(shown.expiresAt!) - (endedAt + 7 * DAY_MS)) < 60_000);
          assert.equal((await get(ids.kept)).json<Video>().expiresAt, null);

          // Only the owner keeps a video, with a boolean, and the answer says what changed.
          const refused = await patch(ids.recent, { keep: true }, other);
          assert.equal(refused.statusCode, 403);
          assert.equal(refused.json<Problem>().code, 'FORBIDDEN');
          for (const bad of [{}, { keep: 'yes' }, { keep: true, extra: 1 }, { title: '   ' }])
            assert.equal((await patch(ids.recent, bad)).statusCode, 400, JSON.stringify(bad));
          const kept = await patch(ids.recent, { keep: true });
          assert.equal(kept.statusCode, 200, kept.body);
          assert.deepEqual(
            { keep: kept.json<Video>().keep, expiresAt: kept.json<Video>().expiresAt },
            { keep: true, expiresAt: null },
          );
          assert.equal((await get(ids.recent)).json<Video>().keep, true);
          const released = (
            await patch(ids.recent, { keep: false, title: 'Renamed' })
          ).json<Video>();
          assert.equal(released.title, 'Renamed');
          assert.ok(released.expiresAt);

          await h.live.videoService.housekeepNow();
          assert.equal((await get(ids.expired)).statusCode, 404);
          assert.deepEqual(await s3.keys(`videos/${ids.expired}/`), []);
          for (const id of [ids.kept, ids.recent]) {
            assert.equal((await get(id)).statusCode, 200, id);
            assert.equal((await h.live.server.inject(`/vod/${id}/720p/seg1.m4s`)).statusCode, 200);
          }
          assert.equal(
            (await s3.keys(`videos/${ids.recent}/`)).length,
            Object.keys(recent.files).length,
          );
        } finally {
          await h.close();
        }
      });

      it("removes a deleted video's files later when the bucket was down at the time", async () => {
        const h = await variant.open(s3.env);
        try {
          const owner = h.user();
          const id = '01900000-0000-7000-8000-00000000c001';
          const { dir } = await recordedVideo(h, owner, { id, endedDaysAgo: 0 });
          await waitFor(() => !existsSync(dir), { timeoutMs: 20_000, what: 'the upload' });
          // An object another video left under a similar prefix is not touched.
          await s3.put(`videos/${id}x/keep.m4s`, Buffer.from('not this video'));
          await s3.stop();
          const res = await h.live.server.inject({
            method: 'DELETE',
            url: `/api/v1/videos/${id}`,
            headers: h.as(owner),
          });
          assert.equal(res.statusCode, 204);
          assert.equal((await h.live.server.inject(`/api/v1/videos/${id}`)).statusCode, 404);
          await s3.start();
          assert.ok(
            (await s3.keys(`videos/${id}/`)).length > 0,
            'still there: the bucket was down',
          );
          await h.live.videoService.housekeepNow();
          assert.deepEqual(await s3.keys(`videos/${id}/`), []);
          assert.deepEqual(await s3.keys(`videos/${id}x/`), [`videos/${id}x/keep.m4s`]);

          // Another replica ran that purge: the folder this disk kept of a deleted video goes
          // once it has been still for a minute; a younger one (a broadcast starting) stays.
          const media = join(h.dataDir, 'media');
          const stale = join(media, '01900000-0000-7000-8000-00000000c002');
          const young = join(media, '01900000-0000-7000-8000-00000000c003');
          for (const d of [stale, young]) {
            mkdirSync(d, { recursive: true });
            writeFileSync(join(d, 'master.m3u8'), '#EXTM3U\n');
          }
          const twoMinutesAgo = new Date(Date.now() - 120_000);
          utimesSync(stale, twoMinutesAgo, twoMinutesAgo);
          await waitFor(() => !existsSync(stale), {
            timeoutMs: 10_000,
            what: 'the stale folder to go',
          });
          await h.live.uploader!.drain();
          assert.ok(existsSync(young));
        } finally {
          await h.close();
        }
      });
    },
  );
}
