import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uuidv7, type Client } from '@neon/kit';
import type {
  ChannelStream,
  PublicStreamKey,
  PublicVideo,
  StreamKeyResponse,
  StreamSettings,
} from '@neon/contracts';
import { waitFor } from '@neon/testing';
import { variants, type Harness } from './harness.js';

const KEY = /^live_[A-Za-z0-9_-]{43}$/;
const CLIENT_ID = 'neon_app_test';
const ALL_SCOPES = ['channel:read:stream_key', 'channel:manage:broadcast'];

type Method = 'GET' | 'PATCH' | 'DELETE';

interface Page {
  data: PublicVideo[];
  pagination: { cursor: string | null };
}

for (const variant of variants()) {
  describe(`live /public/v1 on ${variant.name}`, { skip: variant.skip }, () => {
    let h: Harness;
    before(async () => {
      h = await variant.open();
    });
    after(() => h.close());

    const call = (
      method: Method,
      url: string,
      headers: Record<string, string> = {},
      payload?: unknown,
    ) =>
      h.live.server.inject({
        method,
        url,
        headers,
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    /** A token acting for `user`, with these scopes. */
    const userToken = (user: Client, scopes: readonly string[] = ALL_SCOPES) =>
      h.asApp({ clientId: CLIENT_ID, scopes, user });
    /** The application's own token (client credentials). */
    const appToken = (scopes: readonly string[] = ALL_SCOPES) =>
      h.asApp({ clientId: CLIENT_ID, scopes });

    /** A finished broadcast as the pipeline leaves it: a row and its folder on disk. */
    async function recording(
      owner: Client,
      startedAt: string,
      o: { state?: string; masterPath?: string | null; title?: string } = {},
    ): Promise<string> {
      const id = uuidv7();
      const dir = join(h.dataDir, 'media', id);
      mkdirSync(join(dir, '720p'), { recursive: true });
      writeFileSync(
        join(dir, 'vod.m3u8'),
        '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/vod.m3u8\n',
      );
      writeFileSync(join(dir, '720p', 'vod.m3u8'), '#EXTM3U\n#EXT-X-ENDLIST\n');
      writeFileSync(join(dir, 'thumbnail.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
      await h.platform.db.query(
        `INSERT INTO live.videos (id, user_id, channel, title, state, started_at, ended_at, duration_seconds, has_thumbnail, master_path)
         VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $6::timestamptz + interval '1 hour', 3600.25, true, $7)`,
        [
          id,
          owner.id,
          owner.username,
          o.title ?? `Recording of ${startedAt}`,
          o.state ?? 'ended',
          startedAt,
          o.masterPath === undefined ? 'vod.m3u8' : o.masterPath,
        ],
      );
      return id;
    }

    const OPS: { name: string; method: Method; url: () => string; payload?: unknown }[] = [
      { name: 'getStreamKey', method: 'GET', url: () => '/public/v1/streams/key' },
      {
        name: 'updateStreamTitle',
        method: 'PATCH',
        url: () => '/public/v1/streams/title',
        payload: { title: 'From an app' },
      },
      { name: 'getVideos', method: 'GET', url: () => `/public/v1/videos?userId=${uuidv7()}` },
      { name: 'deleteVideo', method: 'DELETE', url: () => `/public/v1/videos/${uuidv7()}` },
    ];

    describe('who may call', () => {
      it('answers 401 AUTH_REQUIRED without the gateway’s token headers, or with a session instead', async () => {
        const alice = h.user();
        const forged = { ...userToken(alice), 'x-neon-internal': 'forged' };
        for (const op of OPS) {
          for (const headers of [{}, forged, h.as(alice)]) {
            const res = await call(op.method, op.url(), headers, op.payload);
            assert.equal(res.statusCode, 401, op.name);
            assert.equal(res.json().code, 'AUTH_REQUIRED', op.name);
            assert.match(String(res.headers['content-type']), /application\/problem\+json/);
          }
        }
      });

      it('refuses an app token on the operations that act for a user: 403 OAUTH_USER_TOKEN_REQUIRED', async () => {
        for (const op of OPS.filter((o) => o.name !== 'getVideos')) {
          const res = await call(op.method, op.url(), appToken(), op.payload);
          assert.equal(res.statusCode, 403, op.name);
          assert.equal(res.json().code, 'OAUTH_USER_TOKEN_REQUIRED', op.name);
        }
      });

      it('refuses a user token without the operation’s scope: 403 OAUTH_SCOPE_INSUFFICIENT', async () => {
        const alice = h.user();
        const cases: [string, string[]][] = [
          ['getStreamKey', ['channel:manage:broadcast', 'user:read:email']],
          ['updateStreamTitle', ['channel:read:stream_key']],
          ['deleteVideo', ['channel:read:stream_key', 'user:write:chat']],
        ];
        for (const [name, scopes] of cases) {
          const op = OPS.find((o) => o.name === name)!;
          const res = await call(op.method, op.url(), userToken(alice, scopes), op.payload);
          assert.equal(res.statusCode, 403, name);
          assert.equal(res.json().code, 'OAUTH_SCOPE_INSUFFICIENT', name);
        }
      });

      it('lists videos for any token, an app’s own without scopes included', async () => {
        const alice = h.user();
        for (const headers of [appToken([]), userToken(alice, [])]) {
          const res = await call('GET', `/public/v1/videos?userId=${alice.id}`, headers);
          assert.equal(res.statusCode, 200);
        }
      });
    });

    describe('getStreamKey', () => {
      it('gives the key and RTMP URL the dashboard shows, never cached', async () => {
        const alice = h.user();
        const res = await call('GET', '/public/v1/streams/key', userToken(alice));
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['cache-control'], 'no-store');
        const { data } = res.json<{ data: PublicStreamKey[] }>();
        assert.equal(data.length, 1);
        assert.match(data[0]!.streamKey, KEY);
        const own = (
          await call('GET', '/api/v1/me/stream-key', h.as(alice))
        ).json<StreamKeyResponse>();
        assert.deepEqual(data[0], { streamKey: own.streamKey, rtmpUrl: own.rtmpUrl });
        assert.equal(own.rtmpUrl, `rtmp://localhost:${h.live.rtmpPort()}/live`);
      });

      it('answers for an account with a second factor, which cannot step up through an app', async () => {
        const carol = { ...h.user(), stepUpAt: 0 };
        const dashboard = await call('GET', '/api/v1/me/stream-key', h.as(carol));
        assert.equal(dashboard.json().code, 'AUTH_STEP_UP_REQUIRED');
        const res = await call('GET', '/public/v1/streams/key', userToken(carol));
        assert.equal(res.statusCode, 200);
        assert.match(res.json<{ data: PublicStreamKey[] }>().data[0]!.streamKey, KEY);
      });
    });

    describe('updateStreamTitle', () => {
      it('stores the title of an offline channel: 204, no body', async () => {
        const alice = h.user();
        const res = await call('PATCH', '/public/v1/streams/title', userToken(alice), {
          title: 'Set by a bot',
        });
        assert.equal(res.statusCode, 204);
        assert.equal(res.body, '');
        const settings = (
          await call('GET', '/api/v1/me/stream', h.as(alice))
        ).json<StreamSettings>();
        assert.equal(settings.title, 'Set by a bot');
      });

      it('retitles the live broadcast: live.stream.updated.v1 on the bus and the channel page', async () => {
        const dave = h.user();
        await call('GET', '/api/v1/me/stream', h.as(dave));
        const broadcastId = await recording(dave, new Date().toISOString(), {
          state: 'ready',
          masterPath: null,
          title: 'Old title',
        });
        const seen: { broadcastId: string; channel: string; userId: string; title: string }[] = [];
        const tap = await h.platform.bus.subscribe({
          types: ['live.stream.updated.v1'],
          handler: async (e) => {
            if (e.data.userId === dave.id) seen.push(e.data);
          },
        });
        try {
          const res = await call('PATCH', '/public/v1/streams/title', userToken(dave), {
            title: 'New title from the app',
          });
          assert.equal(res.statusCode, 204);
          const event = await waitFor(() => seen[0], {
            what: 'live.stream.updated.v1',
            timeoutMs: 15_000,
          });
          assert.deepEqual(event, {
            broadcastId,
            channel: dave.username,
            userId: dave.id,
            title: 'New title from the app',
          });
          const page = (
            await call('GET', `/api/v1/channels/${dave.username}/stream`)
          ).json<ChannelStream>();
          assert.equal(page.live, true);
          assert.equal(page.stream?.title, 'New title from the app');
          assert.equal(page.stream?.broadcastId, broadcastId);
        } finally {
          await tap.close();
          await h.platform.db.query(`UPDATE live.videos SET state = 'failed' WHERE id = $1`, [
            broadcastId,
          ]);
        }
      });

      it('rejects a bad body with 400 VALIDATION_FAILED problem+json', async () => {
        const alice = h.user();
        for (const payload of [
          {},
          { title: '' },
          { title: 'x'.repeat(141) },
          { title: { text: 'x' } },
          { title: 'ok', extra: 1 },
        ]) {
          const res = await call('PATCH', '/public/v1/streams/title', userToken(alice), payload);
          assert.equal(res.statusCode, 400, JSON.stringify(payload));
          assert.equal(res.json().code, 'VALIDATION_FAILED', JSON.stringify(payload));
          assert.match(String(res.headers['content-type']), /application\/problem\+json/);
        }
        const settings = (
          await call('GET', '/api/v1/me/stream', h.as(alice))
        ).json<StreamSettings>();
        assert.equal(settings.title, `${alice.username} is live`);
      });
    });

    describe('getVideos', () => {
      let erin: Client;
      /** Erin's listed recordings, newest first. */
      let expected: string[];
      before(async () => {
        erin = h.user();
        const other = h.user();
        const at = (s: string) => recording(erin, s);
        // Two starts within one millisecond: a cursor cut to milliseconds would lose one.
        const a = await at('2026-11-01T10:00:00.123456Z');
        const b = await at('2026-11-01T10:00:00.123789Z');
        // Two at the same instant: the id breaks the tie.
        const c = await at('2026-11-02T10:00:00Z');
        const d = await at('2026-11-02T10:00:00Z');
        const e = await at('2026-11-03T10:00:00Z');
        const f = await at('2026-10-01T10:00:00Z');
        // Not listed: live now, failed with nothing playable, someone else's.
        await recording(erin, '2026-11-05T10:00:00Z', { state: 'ready', masterPath: null });
        await recording(erin, '2026-11-04T10:00:00Z', { state: 'failed', masterPath: null });
        await recording(other, '2026-11-02T12:00:00Z');
        const [c1, c2] = c > d ? [c, d] : [d, c];
        expected = [e, c1, c2, b, a, f];
      });

      const list = (query: string) => call('GET', `/public/v1/videos?${query}`, appToken([]));

      it('lists a user’s past broadcasts newest first, as PublicVideo', async () => {
        const res = await list(`userId=${erin.id}`);
        assert.equal(res.statusCode, 200);
        const body = res.json<Page>();
        assert.deepEqual(
          body.data.map((v) => v.id),
          expected,
        );
        assert.equal(body.pagination.cursor, null);
        const newest = body.data[0]!;
        assert.deepEqual(newest, {
          id: expected[0],
          userId: erin.id,
          login: erin.username,
          title: 'Recording of 2026-11-03T10:00:00Z',
          startedAt: '2026-11-03T10:00:00.000Z',
          durationSeconds: 3600.25,
          thumbnailUrl: `/thumbnails/vod/${expected[0]}.jpg`,
          playlistUrl: `/vod/${expected[0]}/master.m3u8`,
        });
      });

      it('pages through every video once, newest first, the cursor null at the end', async () => {
        for (const first of [1, 2, 4]) {
          const seen: string[] = [];
          let after: string | null = null;
          let pages = 0;
          do {
            const query: string =
              `userId=${erin.id}&first=${first}` +
              (after ? `&after=${encodeURIComponent(after)}` : '');
            const res = await list(query);
            assert.equal(res.statusCode, 200);
            const page = res.json<Page>();
            assert.ok(page.data.length <= first);
            seen.push(...page.data.map((v) => v.id));
            after = page.pagination.cursor;
            pages++;
          } while (after !== null && pages < 20);
          assert.deepEqual(seen, expected, `first=${first}`);
          assert.equal(pages, Math.ceil(expected.length / first), `first=${first}`);
        }
      });

      it('answers an empty page for an unknown user, not 404', async () => {
        const res = await list(`userId=${uuidv7()}`);
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), { data: [], pagination: { cursor: null } });
      });

      it('refuses a cursor it did not hand out: 400 naming querystring.after', async () => {
        const forge = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
        for (const after of [
          'nonsense',
          forge({ at: 'yesterday', id: uuidv7() }),
          forge({ at: '2026-13-45T10:00:00.000000Z', id: uuidv7() }),
          forge({ at: '2026-11-01T10:00:00.000000Z', id: "x' OR 1=1" }),
          forge(['2026-11-01T10:00:00.000000Z']),
        ]) {
          const res = await list(`userId=${erin.id}&after=${encodeURIComponent(after)}`);
          assert.equal(res.statusCode, 400, after);
          const problem = res.json<{ code: string; errors: { field: string }[] }>();
          assert.equal(problem.code, 'LIVE_CURSOR_INVALID', after);
          assert.equal(problem.errors[0]?.field, 'querystring.after', after);
          assert.match(String(res.headers['content-type']), /application\/problem\+json/);
        }
      });

      it('rejects a malformed query with 400 VALIDATION_FAILED', async () => {
        for (const query of [
          '',
          'userId=not-a-uuid',
          `userId=${erin.id}&first=0`,
          `userId=${erin.id}&first=101`,
          `userId=${erin.id}&first=many`,
          `userId=${erin.id}&after=`,
          `userId=${erin.id}&after=${'a'.repeat(257)}`,
          `userId=${erin.id}&limit=5`,
        ]) {
          const res = await list(query);
          assert.equal(res.statusCode, 400, query);
          assert.equal(res.json().code, 'VALIDATION_FAILED', query);
          assert.match(String(res.headers['content-type']), /application\/problem\+json/);
        }
      });
    });

    describe('deleteVideo', () => {
      it('deletes one of the token user’s videos with its files; a second delete is 404', async () => {
        const frank = h.user();
        const id = await recording(frank, '2026-11-01T10:00:00Z');
        const dir = join(h.dataDir, 'media', id);
        const res = await call('DELETE', `/public/v1/videos/${id}`, userToken(frank));
        assert.equal(res.statusCode, 204);
        assert.equal(res.body, '');
        assert.equal(existsSync(dir), false);
        assert.equal(
          (await call('GET', `/api/v1/videos/${id}`)).json().code,
          'LIVE_VIDEO_NOT_FOUND',
        );
        const listed = (
          await call('GET', `/public/v1/videos?userId=${frank.id}`, appToken([]))
        ).json<Page>();
        assert.deepEqual(listed.data, []);
        const again = await call('DELETE', `/public/v1/videos/${id}`, userToken(frank));
        assert.equal(again.statusCode, 404);
        assert.equal(again.json().code, 'LIVE_VIDEO_NOT_FOUND');
      });

      it('answers someone else’s video as an unknown one, and leaves it', async () => {
        const grace = h.user();
        const mallory = h.user();
        const id = await recording(grace, '2026-11-01T10:00:00Z');
        const theirs = await call('DELETE', `/public/v1/videos/${id}`, userToken(mallory));
        const unknown = await call('DELETE', `/public/v1/videos/${uuidv7()}`, userToken(mallory));
        for (const res of [theirs, unknown]) {
          assert.equal(res.statusCode, 404);
          assert.equal(res.json().code, 'LIVE_VIDEO_NOT_FOUND');
        }
        // The same answer but for the request id: nothing tells the two apart.
        const answer = (res: typeof theirs) => ({
          ...res.json<Record<string, unknown>>(),
          requestId: undefined,
        });
        assert.deepEqual(answer(theirs), answer(unknown));
        assert.equal((await call('GET', `/api/v1/videos/${id}`)).statusCode, 200);
        assert.equal((await call('GET', `/vod/${id}/master.m3u8`)).statusCode, 200);
        assert.ok(existsSync(join(h.dataDir, 'media', id, 'thumbnail.jpg')));
      });

      it('does not delete a broadcast that is still live', async () => {
        const heidi = h.user();
        const id = await recording(heidi, new Date().toISOString(), {
          state: 'ready',
          masterPath: null,
        });
        const res = await call('DELETE', `/public/v1/videos/${id}`, userToken(heidi));
        assert.equal(res.json().code, 'LIVE_VIDEO_NOT_FOUND');
        assert.ok(existsSync(join(h.dataDir, 'media', id)));
        await h.platform.db.query(`UPDATE live.videos SET state = 'failed' WHERE id = $1`, [id]);
      });

      it('rejects a malformed id with 400 VALIDATION_FAILED', async () => {
        const res = await call('DELETE', '/public/v1/videos/not-an-id', userToken(h.user()));
        assert.equal(res.statusCode, 400);
        assert.equal(res.json().code, 'VALIDATION_FAILED');
      });
    });
  });
}
