import { describe, it } from 'node:test';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { StreamKeyResponse } from '@neon/contracts';
import { uuidv7 } from '@neon/kit';
import { waitFor } from '@neon/testing';
import { encoder, stop } from './encoder.js';
import { variants } from './harness.js';

// A replica died with a broadcast open: its row still says live. The replica
// that carries the channel next closes it, so the directory shows one broadcast;
// when the recording is on its own disk (the same replica came back), as a VOD.
for (const variant of variants()) {
  describe(
    `a broadcast its replica left open (${variant.name})`,
    { skip: variant.skip, timeout: 120_000 },
    () => {
      it('is closed as failed, and its end announced, when the channel goes live again', async () => {
        const h = await variant.open();
        const ended: string[] = [];
        const sub = await h.platform.bus.subscribe({
          group: 'test.ended',
          types: ['live.stream.ended.v1'],
          handler: async (e) => {
            ended.push(e.data.broadcastId);
          },
        });
        const user = h.user();
        const stale = uuidv7();
        let child = null;
        try {
          const { streamKey } = (
            await h.live.server.inject({ url: '/api/v1/me/stream-key', headers: h.as(user) })
          ).json<StreamKeyResponse>();
          await h.platform.db.query(
            `INSERT INTO live.videos (id, user_id, channel, title, state, started_at)
           VALUES ($1, $2, $3, 'Before the crash', 'ready', now() - interval '10 minutes')`,
            [stale, user.id, user.username],
          );
          child = encoder(`rtmp://127.0.0.1:${h.live.rtmpPort()}/live/${streamKey}`);
          await waitFor(() => h.live.broadcasts.get(user.username) !== null, {
            timeoutMs: 30_000,
            what: 'the new broadcast',
          });
          // The new row is written once the channel is claimed and the stale one closed.
          const rows = await waitFor(
            async () => {
              const r = await h.platform.db.query<{ id: string; state: string; ended: boolean }>(
                `SELECT id, state, ended_at IS NOT NULL AS ended FROM live.videos WHERE channel = $1 ORDER BY started_at`,
                [user.username],
              );
              return r.length === 2 ? r : undefined;
            },
            { what: 'the new broadcast stored' },
          );
          assert.equal(rows.length, 2);
          assert.deepEqual({ ...rows[0] }, { id: stale, state: 'failed', ended: true });
          assert.equal(rows[1]!.id, h.live.broadcasts.get(user.username)!.id);
          assert.ok(['publishing', 'ready'].includes(rows[1]!.state), rows[1]!.state);
          assert.equal(rows[1]!.ended, false);
          await waitFor(() => ended.includes(stale), {
            what: 'the stale broadcast announced ended',
          });
          const live = await h.live.server.inject(`/api/v1/channels/${user.username}/stream`);
          assert.equal(live.statusCode, 200);
        } finally {
          if (child) await stop(child);
          await sub.close();
          await h.close();
        }
      });

      it("is closed as ended, with its recording, when its folder is on this replica's disk", async () => {
        const h = await variant.open({ LIVE_ENDED_PLAYLIST_SECONDS: '0' });
        const user = h.user();
        let child = null;
        try {
          const headers = h.as(user);
          const { streamKey } = (
            await h.live.server.inject({ url: '/api/v1/me/stream-key', headers })
          ).json<StreamKeyResponse>();
          const url = `rtmp://127.0.0.1:${h.live.rtmpPort()}/live/${streamKey}`;
          // A first broadcast leaves a real recording behind.
          child = encoder(url);
          await waitFor(
            async () =>
              (await h.live.server.inject(`/dash/${user.username}/manifest.mpd`)).statusCode ===
              200,
            { timeoutMs: 30_000, what: 'the first broadcast live' },
          );
          await new Promise((r) => setTimeout(r, 3000));
          const first = h.live.broadcasts.get(user.username)!.id;
          await h.live.server.inject({ method: 'POST', url: '/api/v1/me/stream/end', headers });
          await stop(child);
          // As a replica that died would leave it: the same files, under a row still open.
          const media = join(h.dataDir, 'media');
          const stale = uuidv7();
          cpSync(join(media, first), join(media, stale), { recursive: true });
          rmSync(join(media, stale, 'master.m3u8'));
          await h.platform.db.query(
            `INSERT INTO live.videos (id, user_id, channel, title, state, started_at)
             VALUES ($1, $2, $3, 'Before the crash', 'ready', now() - interval '1 minute')`,
            [stale, user.id, user.username],
          );
          child = encoder(url);
          const row = await waitFor(
            async () => {
              const [r] = await h.platform.db.query<{
                state: string;
                master_path: string | null;
                duration_seconds: number;
              }>('SELECT state, master_path, duration_seconds FROM live.videos WHERE id = $1', [
                stale,
              ]);
              return r && r.state !== 'ready' ? r : undefined;
            },
            { timeoutMs: 30_000, what: 'the stale broadcast closed' },
          );
          assert.equal(row.state, 'ended');
          assert.equal(row.master_path, 'master.m3u8');
          assert.ok(Number(row.duration_seconds) >= 2, `recorded ${row.duration_seconds} s`);
          const master = await h.live.server.inject(`/vod/${stale}/master.m3u8`);
          assert.equal(master.statusCode, 200);
          assert.match(master.body, /#EXT-X-STREAM-INF/);
        } finally {
          if (child) await stop(child);
          await h.close();
        }
      });
    },
  );
}
