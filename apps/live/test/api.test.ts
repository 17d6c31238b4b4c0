import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@neon/kit';
import type {
  ChannelStream,
  LiveStreamList,
  StreamKeyResponse,
  StreamSettings,
  Video,
  VideoList,
} from '@neon/contracts';
import { waitFor } from '@neon/testing';
import { VideoRepository } from '../src/vod/video.repository.js';
import { variants, type Harness } from './harness.js';

const KEY = /^live_[A-Za-z0-9_-]{43}$/;

for (const variant of variants()) {
  describe(`live HTTP API on ${variant.name}`, { skip: variant.skip }, () => {
    let h: Harness;
    let alice: Client;
    let bob: Client;
    before(async () => {
      h = await variant.open();
      alice = h.user();
      bob = h.user();
    });
    after(() => h.close());

    const get = (url: string, client?: Client) =>
      h.live.server.inject({ method: 'GET', url, headers: client ? h.as(client) : {} });

    describe('stream keys', () => {
      it('needs a signed-in user', async () => {
        for (const method of ['GET', 'POST'] as const) {
          const res = await h.live.server.inject({ method, url: '/api/v1/me/stream-key' });
          assert.equal(res.statusCode, 401);
          assert.equal(res.json().code, 'AUTH_REQUIRED');
        }
      });

      it('ignores identity headers without the internal secret', async () => {
        const headers = { ...h.as(alice), 'x-neon-internal': 'forged' };
        const res = await h.live.server.inject({
          method: 'GET',
          url: '/api/v1/me/stream-key',
          headers,
        });
        assert.equal(res.json().code, 'AUTH_REQUIRED');
      });

      it('gives a user a key on first read and the same key afterwards, never cached', async () => {
        const first = await get('/api/v1/me/stream-key', alice);
        assert.equal(first.statusCode, 200);
        assert.equal(first.headers['cache-control'], 'no-store');
        const body = first.json<StreamKeyResponse>();
        assert.match(body.streamKey, KEY);
        assert.equal(body.rtmpUrl, `rtmp://localhost:${h.live.rtmpPort()}/live`);
        const again = (await get('/api/v1/me/stream-key', alice)).json<StreamKeyResponse>();
        assert.equal(again.streamKey, body.streamKey);
        const other = (await get('/api/v1/me/stream-key', bob)).json<StreamKeyResponse>();
        assert.notEqual(other.streamKey, body.streamKey);
      });

      it('stores no key in the clear', async () => {
        const { streamKey } = (await get('/api/v1/me/stream-key', alice)).json<StreamKeyResponse>();
        const rows = await h.platform.db.query<Record<string, unknown>>(
          'SELECT * FROM live.channels WHERE user_id = $1',
          [alice.id],
        );
        assert.equal(rows.length, 1);
        assert.ok(!JSON.stringify(rows[0]).includes(streamKey.slice(5)));
      });

      it('regenerates: a new key, which reads back, and the old one is gone', async () => {
        const old = (await get('/api/v1/me/stream-key', alice)).json<StreamKeyResponse>();
        const res = await h.live.server.inject({
          method: 'POST',
          url: '/api/v1/me/stream-key',
          headers: h.as(alice),
        });
        assert.equal(res.statusCode, 200);
        const fresh = res.json<StreamKeyResponse>();
        assert.match(fresh.streamKey, KEY);
        assert.notEqual(fresh.streamKey, old.streamKey);
        assert.equal(
          (await get('/api/v1/me/stream-key', alice)).json<StreamKeyResponse>().streamKey,
          fresh.streamKey,
        );
      });

      it('needs a second-factor check within ten minutes when the account has a factor', async () => {
        const now = Math.floor(Date.now() / 1000);
        const carol = h.user();
        for (const method of ['GET', 'POST'] as const) {
          for (const stepUpAt of [0, now - 11 * 60]) {
            const res = await h.live.server.inject({
              method,
              url: '/api/v1/me/stream-key',
              headers: h.as({ ...carol, stepUpAt }),
            });
            assert.equal(res.statusCode, 403, `${method} ${stepUpAt}`);
            assert.equal(res.json().code, 'AUTH_STEP_UP_REQUIRED');
          }
        }
        const ok = await get('/api/v1/me/stream-key', { ...carol, stepUpAt: now - 60 });
        assert.equal(ok.statusCode, 200);
        assert.match(ok.json<StreamKeyResponse>().streamKey, KEY);
      });
    });

    describe('stream settings', () => {
      it('needs a signed-in user', async () => {
        assert.equal((await get('/api/v1/me/stream')).json().code, 'AUTH_REQUIRED');
        const res = await h.live.server.inject({
          method: 'PATCH',
          url: '/api/v1/me/stream',
          payload: { title: 'x' },
        });
        assert.equal(res.json().code, 'AUTH_REQUIRED');
      });

      it('shows an offline channel with a default title, then the title set', async () => {
        const before = (await get('/api/v1/me/stream', alice)).json<StreamSettings>();
        assert.equal(before.live, false);
        assert.equal(before.broadcastId, null);
        assert.equal(before.ingest, null);
        const res = await h.live.server.inject({
          method: 'PATCH',
          url: '/api/v1/me/stream',
          headers: h.as(alice),
          payload: { title: 'Speedrunning the tutorial' },
        });
        assert.equal(res.statusCode, 200);
        assert.equal(res.json<StreamSettings>().title, 'Speedrunning the tutorial');
        assert.equal(
          (await get('/api/v1/me/stream', alice)).json<StreamSettings>().title,
          'Speedrunning the tutorial',
        );
      });

      it('rejects bad titles with VALIDATION_FAILED', async () => {
        for (const payload of [
          {},
          { title: '' },
          { title: 'x'.repeat(141) },
          { title: { text: 'x' } },
          { title: 'ok', extra: 1 },
        ]) {
          const res = await h.live.server.inject({
            method: 'PATCH',
            url: '/api/v1/me/stream',
            headers: h.as(alice),
            payload,
          });
          assert.equal(res.statusCode, 400, JSON.stringify(payload));
          assert.equal(res.json().code, 'VALIDATION_FAILED');
        }
      });
    });

    describe('directory and channel state', () => {
      it('lists no live channels when nobody streams', async () => {
        const res = await get('/api/v1/streams');
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json<LiveStreamList>().items, []);
      });

      it('says offline for a known channel and 404 for an unknown one', async () => {
        const unknown = await get('/api/v1/channels/nobody_here/stream');
        assert.equal(unknown.statusCode, 404);
        assert.equal(unknown.json().code, 'LIVE_CHANNEL_NOT_FOUND');
        await h.platform.bus.publish('identity.user.registered.v1', {
          userId: bob.id,
          username: bob.username,
          displayName: 'Bob',
          createdAt: new Date().toISOString(),
        });
        const offline = await waitFor(
          async () => {
            const r = await get(`/api/v1/channels/${bob.username}/stream`);
            return r.statusCode === 200 ? r.json<ChannelStream>() : undefined;
          },
          { what: 'the registered user to be known', timeoutMs: 15_000 },
        );
        assert.deepEqual(offline, { channel: bob.username, live: false, stream: null });
      });

      it('rejects a malformed channel name', async () => {
        const res = await get('/api/v1/channels/NO%20WAY/stream');
        assert.equal(res.statusCode, 400);
        assert.equal(res.json().code, 'VALIDATION_FAILED');
      });
    });

    describe('origin', () => {
      it('answers 404 LIVE_NOT_LIVE problem+json, with CORS, for a channel that is not live', async () => {
        for (const url of [
          `/hls/${alice.username}/master.m3u8`,
          `/hls/${alice.username}/720p/index.m3u8`,
          `/hls/${alice.username}/720p/seg1.m4s`,
          `/dash/${alice.username}/manifest.mpd`,
          '/hls/No..Such/master.m3u8',
        ]) {
          const res = await get(url);
          assert.equal(res.statusCode, 404, url);
          assert.equal(res.json().code, 'LIVE_NOT_LIVE', url);
          assert.match(String(res.headers['content-type']), /application\/problem\+json/);
          assert.equal(res.headers['access-control-allow-origin'], '*');
        }
      });

      it('never resolves a path outside the media folder', async () => {
        for (const url of [
          `/hls/${alice.username}/..%2F..%2F/passwd`,
          `/hls/${alice.username}/../../etc/passwd`,
        ]) {
          const res = await get(url);
          assert.equal(res.statusCode, 404, url);
        }
      });

      it('has no live thumbnail for an offline channel', async () => {
        const res = await get(`/thumbnails/${alice.username}.jpg`);
        assert.equal(res.statusCode, 404);
        assert.equal(res.json().code, 'LIVE_NOT_LIVE');
      });
    });

    describe('videos', () => {
      let videoId: string;
      const mediaDir = () => join(h.dataDir, 'media');

      before(async () => {
        // A finished broadcast as the pipeline leaves it on disk.
        videoId = '01900000-0000-7000-8000-000000000001';
        const dir = join(mediaDir(), videoId);
        mkdirSync(join(dir, '720p'), { recursive: true });
        writeFileSync(
          join(dir, 'vod.m3u8'),
          '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/vod.m3u8\n',
        );
        writeFileSync(join(dir, '720p', 'vod.m3u8'), '#EXTM3U\n#EXT-X-ENDLIST\n');
        writeFileSync(join(dir, '720p', 'seg1.m4s'), Buffer.alloc(100));
        writeFileSync(join(dir, 'thumbnail.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
        await h.platform.db.query(
          `INSERT INTO live.videos (id, user_id, channel, title, state, started_at, ended_at, duration_seconds, has_thumbnail, master_path)
           VALUES ($1, $2, $3, 'First stream', 'ended', now() - interval '1 hour', now(), 42.5, true, 'vod.m3u8')`,
          [videoId, alice.id, alice.username],
        );
      });

      it("lists a channel's videos and shows one", async () => {
        const list = await get(`/api/v1/channels/${alice.username}/videos`);
        assert.equal(list.statusCode, 200);
        const items = list.json<VideoList>().items;
        assert.equal(items.length, 1);
        assert.deepEqual(
          { ...items[0], startedAt: undefined },
          {
            id: videoId,
            channel: alice.username,
            title: 'First stream',
            startedAt: undefined,
            durationSeconds: 42.5,
            thumbnailUrl: `/thumbnails/vod/${videoId}.jpg`,
            playlistUrl: `/vod/${videoId}/master.m3u8`,
            // This deployment keeps every recording (no VOD_RETENTION_DAYS).
            keep: false,
            expiresAt: null,
          },
        );
        const one = await get(`/api/v1/videos/${videoId}`);
        assert.deepEqual(one.json<Video>(), items[0]);
      });

      it('404s the videos of an unknown channel and an unknown video; 400s a malformed id', async () => {
        assert.equal(
          (await get('/api/v1/channels/nobody_here/videos')).json().code,
          'LIVE_CHANNEL_NOT_FOUND',
        );
        const missing = await get('/api/v1/videos/01900000-0000-7000-8000-0000000000ff');
        assert.equal(missing.statusCode, 404);
        assert.equal(missing.json().code, 'LIVE_VIDEO_NOT_FOUND');
        const bad = await get('/api/v1/videos/not-an-id');
        assert.equal(bad.statusCode, 400);
        assert.equal(bad.json().code, 'VALIDATION_FAILED');
      });

      it('serves the VOD at a stable URL with the right types, and nothing outside it', async () => {
        const master = await get(`/vod/${videoId}/master.m3u8`);
        assert.equal(master.statusCode, 200);
        assert.equal(master.headers['content-type'], 'application/vnd.apple.mpegurl');
        assert.match(master.body, /720p\/vod\.m3u8/);
        const seg = await get(`/vod/${videoId}/720p/seg1.m4s`);
        assert.equal(seg.headers['content-type'], 'video/iso.segment');
        assert.match(String(seg.headers['cache-control']), /immutable/);
        assert.equal(seg.rawPayload.length, 100);
        const thumb = await get(`/thumbnails/vod/${videoId}.jpg`);
        assert.equal(thumb.headers['content-type'], 'image/jpeg');
        for (const url of [
          `/vod/${videoId}/../../live/stream-key.secret`,
          `/vod/${videoId}/720p/..%2F..%2Fthumbnail.jpg`,
          `/vod/${videoId}/.hidden`,
        ]) {
          assert.equal((await get(url)).statusCode, 404, url);
        }
        const overlong = await get(`/vod/${videoId}/${'a'.repeat(513)}`);
        assert.equal(overlong.statusCode, 400);
        assert.equal(overlong.json().code, 'VALIDATION_FAILED');
      });

      it('lets only its owner rename a video', async () => {
        const patch = (body: unknown, client?: Client) =>
          h.live.server.inject({
            method: 'PATCH',
            url: `/api/v1/videos/${videoId}`,
            headers: client ? h.as(client) : {},
            payload: body as object,
          });
        assert.equal((await patch({ title: 'Mine now' })).json().code, 'AUTH_REQUIRED');
        const other = await patch({ title: 'Mine now' }, bob);
        assert.equal(other.statusCode, 403);
        assert.equal(other.json().code, 'FORBIDDEN');
        assert.equal((await patch({ title: '   ' }, alice)).json().code, 'VALIDATION_FAILED');
        assert.equal((await patch({ title: '' }, alice)).json().code, 'VALIDATION_FAILED');
        const own = await patch({ title: '  Any% world record  ' }, alice);
        assert.equal(own.statusCode, 200);
        assert.equal(own.json<Video>().title, 'Any% world record');
        assert.equal(
          (await get(`/api/v1/videos/${videoId}`)).json<Video>().title,
          'Any% world record',
        );
        const missing = await h.live.server.inject({
          method: 'PATCH',
          url: '/api/v1/videos/01900000-0000-7000-8000-0000000000ff',
          headers: h.as(alice),
          payload: { title: 'x' },
        });
        assert.equal(missing.json().code, 'LIVE_VIDEO_NOT_FOUND');
      });

      it('titles a finished recording with its stream title and date, once', async () => {
        const videos = new VideoRepository(h.platform.db);
        const id = '01900000-0000-7000-8000-000000000002';
        await videos.create({
          id,
          userId: alice.id,
          channel: alice.username,
          title: 'Speedrun night',
          startedAt: new Date('2026-12-06T21:30:00Z'),
        });
        const finish = () =>
          videos.finish(id, {
            state: 'ended',
            endedAt: new Date('2026-12-06T23:00:00Z'),
            durationSeconds: 5400,
            hasThumbnail: false,
            masterPath: 'vod.m3u8',
          });
        await finish();
        await finish();
        assert.equal((await videos.get(id))?.title, 'Speedrun night — 6 Dec 2026');
        await videos.delete(id);
      });

      it('lets only its owner delete a video, which removes its files', async () => {
        const anon = await h.live.server.inject({
          method: 'DELETE',
          url: `/api/v1/videos/${videoId}`,
        });
        assert.equal(anon.json().code, 'AUTH_REQUIRED');
        const other = await h.live.server.inject({
          method: 'DELETE',
          url: `/api/v1/videos/${videoId}`,
          headers: h.as(bob),
        });
        assert.equal(other.statusCode, 403);
        assert.equal(other.json().code, 'FORBIDDEN');
        const own = await h.live.server.inject({
          method: 'DELETE',
          url: `/api/v1/videos/${videoId}`,
          headers: h.as(alice),
        });
        assert.equal(own.statusCode, 204);
        assert.equal(existsSync(join(mediaDir(), videoId)), false);
        assert.equal((await get(`/api/v1/videos/${videoId}`)).json().code, 'LIVE_VIDEO_NOT_FOUND');
        assert.equal((await get(`/vod/${videoId}/master.m3u8`)).statusCode, 404);
        assert.deepEqual(
          (await get(`/api/v1/channels/${alice.username}/videos`)).json<VideoList>().items,
          [],
        );
        const again = await h.live.server.inject({
          method: 'DELETE',
          url: `/api/v1/videos/${videoId}`,
          headers: h.as(alice),
        });
        assert.equal(again.json().code, 'LIVE_VIDEO_NOT_FOUND');
      });
    });
  });
}
