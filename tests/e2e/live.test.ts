import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import type {
  EventOf,
  StreamKeyResponse,
  StreamSettings,
  LiveStreamList,
  VideoList,
} from '@neon/contracts';
import { clientHeaders, createLogger, loadConfig, uuidv7, type Client } from '@neon/kit';
import { openPlatform, platformSpec } from '@neon/platform';
import { buildApp, liveService, type LiveService } from '@neon/live';
import { syntheticSourceArgs, waitFor, embeddedDataDir } from '@neon/testing';

const run = promisify(execFile);
const GRACE_SECONDS = 4;

/** ffmpeg pushing the synthetic source: 720p30 testsrc2 + sine, H.264/AAC, a keyframe every second. */
function publish(url: string): ChildProcess & { output: () => string } {
  const args = syntheticSourceArgs(url);
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  process.once('exit', () => child.kill('SIGKILL'));
  return Object.assign(child, { output: () => err });
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

function attr(line: string, name: string): string | undefined {
  return new RegExp(`${name}=("[^"]*"|[^,]*)`).exec(line)?.[1]?.replace(/"/g, '');
}

/** The (msn, part index) of the last part a live media playlist lists. */
function lastPart(playlist: string): { msn: number; part: number } {
  const lines = playlist.split('\n');
  let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist)?.[1] ?? 0);
  let part = -1;
  for (const l of lines) {
    if (l.startsWith('#EXT-X-PART:')) part++;
    else if (l && !l.startsWith('#')) {
      msn++;
      part = -1;
    }
  }
  return { msn, part };
}

describe('live video end to end (real ffmpeg over RTMP)', { timeout: 240_000 }, () => {
  let dataDir: string;
  let live: LiveService;
  let base: string;
  let rtmp: string;
  let closePlatform: () => Promise<void>;
  let headers: Record<string, string>;
  const streamer: Client = { id: uuidv7(), username: 'e2e_streamer', roles: ['user'] };
  const events: EventOf<
    'live.stream.started.v1' | 'live.stream.ended.v1' | 'live.viewers.updated.v1'
  >[] = [];
  const publishers: ChildProcess[] = [];

  const api = async <T>(
    path: string,
    init: RequestInit = {},
  ): Promise<{ status: number; body: T; headers: Headers }> => {
    const res = await fetch(base + path, {
      ...init,
      headers: { ...headers, ...(init.headers as Record<string, string>) },
    });
    const text = await res.text();
    return {
      status: res.status,
      body: (text ? JSON.parse(text) : null) as T,
      headers: res.headers,
    };
  };
  const text = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, body: await res.text(), headers: res.headers };
  };
  const bytes = async (path: string) => {
    const res = await fetch(base + path);
    assert.equal(res.status, 200, path);
    return Buffer.from(await res.arrayBuffer());
  };

  before(async () => {
    dataDir = await embeddedDataDir('neon-live-e2e-');
    const env = {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      RTMP_HOST: '127.0.0.1',
      RTMP_PORT: '0',
      LIVE_PORT: '0',
      RECONNECT_GRACE_SECONDS: String(GRACE_SECONDS),
      VIEWER_PUBLISH_INTERVAL_SECONDS: '1',
    };
    const platform = await openPlatform({
      name: 'live-e2e',
      config: loadConfig(platformSpec, env),
      shape: 'embedded',
      logger: createLogger({ level: (process.env.E2E_LOG_LEVEL as 'info' | undefined) ?? 'warn' }),
    });
    closePlatform = () => platform.close();
    await platform.bus.subscribe({
      types: ['live.stream.started.v1', 'live.stream.ended.v1', 'live.viewers.updated.v1'],
      handler: async (e) => void events.push(e),
    });
    live = await buildApp(platform, loadConfig(liveService.spec, env));
    const address = await live.server.listen({ host: '127.0.0.1', port: 0 });
    await live.start!();
    base = address;
    headers = clientHeaders(streamer, platform.internalSecret);
    rtmp = `rtmp://127.0.0.1:${live.rtmpPort()}/live`;
  });

  after(async () => {
    await Promise.all(publishers.map(kill));
    await live?.server.close();
    await live?.close();
    await closePlatform?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let key: string;
  let broadcastId: string;
  let master: string;

  it('refuses an unknown stream key with an RTMP error status (ffmpeg exits non-zero)', async () => {
    const { body } = await api<StreamKeyResponse>('/api/v1/me/stream-key');
    key = body.streamKey;
    assert.equal(body.rtmpUrl, rtmp.replace('127.0.0.1', 'localhost'));
    const bad = publish(`${rtmp}/live_${randomBytes(32).toString('base64url')}`);
    publishers.push(bad);
    assert.notEqual(await exitOf(bad), 0);
  });

  it('goes live: the master playlist lists the ladder (source 720p, 480p, 360p, 160p) with codecs', async () => {
    const first = publish(`${rtmp}/${key}`);
    publishers.push(first);
    master = await waitFor(
      async () => {
        const r = await text(`/hls/${streamer.username}/master.m3u8`);
        return r.status === 200 ? r.body : undefined;
      },
      { timeoutMs: 30_000, what: 'the master playlist', intervalMs: 250 },
    );
    const variants = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF'));
    const heights = variants.map((l) => Number(attr(l, 'RESOLUTION')?.split('x')[1]));
    // The source (a copy of the 720p input) and the encoded rungs.
    assert.deepEqual(
      heights.sort((a, b) => b - a),
      [720, 720, 480, 360, 160],
      master,
    );
    for (const name of ['source', '720p', '480p', '360p', '160p'])
      assert.match(master, new RegExp(`^${name}/index\\.m3u8$`, 'm'));
    for (const v of variants) {
      assert.ok(attr(v, 'BANDWIDTH'), v);
      assert.ok(attr(v, 'AVERAGE-BANDWIDTH'), v);
      assert.match(attr(v, 'CODECS') ?? '', /avc1\.[0-9a-fA-F]{6}.*mp4a\.40\.2/);
      assert.ok(attr(v, 'FRAME-RATE'), v);
    }
    const settings = (await api<StreamSettings>('/api/v1/me/stream')).body;
    assert.equal(settings.live, true);
    assert.equal(settings.ingest?.width, 1280);
    assert.equal(settings.ingest?.height, 720);
    broadcastId = settings.broadcastId!;
    await waitFor(
      () =>
        events.some(
          (e) => e.type === 'live.stream.started.v1' && e.data.broadcastId === broadcastId,
        ),
      {
        what: 'live.stream.started.v1',
      },
    );
    const started = events.find((e) => e.type === 'live.stream.started.v1');
    assert.equal(started?.data.channel, streamer.username);
    assert.ok(
      started && 'renditions' in started.data && started.data.renditions.includes('source'),
    );
  });

  it('serves media playlists that advance, with LL-HLS tags and player-friendly headers', async () => {
    // Here and below, the lowest rung: it is never shed, whatever the machine's load.
    const url = `/hls/${streamer.username}/160p/index.m3u8`;
    const first = await text(url);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.equal(first.headers.get('access-control-allow-origin'), '*');
    assert.match(first.headers.get('cache-control') ?? '', /max-age=1/);
    assert.match(first.body, /#EXT-X-SERVER-CONTROL:.*CAN-BLOCK-RELOAD=YES/);
    assert.match(first.body, /#EXT-X-PART-INF:PART-TARGET=/);
    assert.match(first.body, /#EXT-X-PRELOAD-HINT:TYPE=PART/);
    const start = lastPart(first.body);
    await waitFor(
      async () => {
        const now = lastPart((await text(url)).body);
        return now.msn >= start.msn + 2;
      },
      { timeoutMs: 20_000, what: 'the playlist to advance two segments', intervalMs: 500 },
    );
  });

  it('answers a blocking reload for the next part once that part exists', async () => {
    const url = `/hls/${streamer.username}/160p/index.m3u8`;
    const now = lastPart((await text(url)).body);
    const next = { msn: now.msn, part: now.part + 1 };
    const r = await text(`${url}?_HLS_msn=${next.msn}&_HLS_part=${next.part}`);
    assert.equal(r.status, 200);
    const got = lastPart(r.body);
    assert.ok(
      got.msn > next.msn || (got.msn === next.msn && got.part >= next.part),
      `${JSON.stringify(got)} >= ${JSON.stringify(next)}`,
    );
    const tooFar = await text(`${url}?_HLS_msn=${next.msn + 50}`);
    assert.equal(tooFar.status, 400);
    assert.equal(JSON.parse(tooFar.body).code, 'LIVE_PART_TOO_FAR');
    const invalid = await text(`${url}?_HLS_part=1`);
    assert.equal(invalid.status, 400);
    assert.equal(JSON.parse(invalid.body).code, 'LIVE_PLAYLIST_REQUEST_INVALID');
  });

  it('produces segments ffprobe reads with the expected codec and size, for every variant', async () => {
    const expected: Record<string, [number, number]> = {
      source: [1280, 720],
      '480p': [854, 480],
      '360p': [640, 360],
      '160p': [284, 160],
    };
    const dir = mkdtempSync(join(tmpdir(), 'neon-seg-'));
    try {
      for (const [name, [w, h]] of Object.entries(expected)) {
        const playlist = (await text(`/hls/${streamer.username}/${name}/index.m3u8`)).body;
        const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1];
        const seg = playlist.split('\n').find((l) => /^s\d+\.m4s$/.test(l));
        assert.ok(init && seg, playlist);
        const segRes = await fetch(`${base}/hls/${streamer.username}/${name}/${seg}`);
        assert.match(segRes.headers.get('cache-control') ?? '', /immutable/);
        const file = join(dir, `${name}.mp4`);
        writeFileSync(
          file,
          Buffer.concat([
            await bytes(`/hls/${streamer.username}/${name}/${init}`),
            Buffer.from(await segRes.arrayBuffer()),
          ]),
        );
        const { stdout } = await run('ffprobe', [
          '-v',
          'error',
          '-select_streams',
          'v:0',
          '-show_entries',
          'stream=codec_name,width,height',
          '-of',
          'json',
          file,
        ]);
        const stream = (
          JSON.parse(stdout) as { streams: { codec_name: string; width: number; height: number }[] }
        ).streams[0];
        assert.deepEqual(stream, { codec_name: 'h264', width: w, height: h }, name);
      }
      const audio = (await text(`/hls/${streamer.username}/audio/index.m3u8`)).body;
      const ainit = /#EXT-X-MAP:URI="([^"]+)"/.exec(audio)?.[1];
      const aseg = audio.split('\n').find((l) => /^s\d+\.m4s$/.test(l));
      const afile = join(dir, 'audio.mp4');
      writeFileSync(
        afile,
        Buffer.concat([
          await bytes(`/hls/${streamer.username}/audio/${ainit}`),
          await bytes(`/hls/${streamer.username}/audio/${aseg}`),
        ]),
      );
      const { stdout } = await run('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'stream=codec_name',
        '-of',
        'csv=p=0',
        afile,
      ]);
      assert.equal(stdout.trim(), 'aac');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('publishes a DASH manifest whose segments exist', async () => {
    const r = await text(`/dash/${streamer.username}/manifest.mpd`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/dash+xml');
    assert.match(r.body, /^<\?xml[^>]*\?>\s*<MPD[^>]*type="dynamic"/);
    const reps = [...r.body.matchAll(/<Representation[^>]*id="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(reps.includes('480p') && reps.includes('audio'), reps.join());
    const template =
      /<SegmentTemplate[^>]*startNumber="(\d+)"[^>]*initialization="([^"]+)"[^>]*media="([^"]+)"/.exec(
        r.body,
      );
    assert.ok(template, r.body);
    const [, start, init, media] = template;
    for (const rep of ['480p', 'audio']) {
      await bytes(`/dash/${streamer.username}/${init!.replace('$RepresentationID$', rep)}`);
      await bytes(
        `/dash/${streamer.username}/${media!.replace('$RepresentationID$', rep).replace('$Number$', String(Number(start) + 1))}`,
      );
    }
  });

  it('counts distinct players and lists the stream in the directory', async () => {
    for (const v of ['player-a', 'player-b', 'player-a'])
      await text(`/hls/${streamer.username}/master.m3u8?v=${v}`);
    // The streamer's dashboard preview plays without being counted, whatever browser it runs in.
    const preview = await fetch(`${base}/hls/${streamer.username}/master.m3u8?preview=1`, {
      headers: { 'user-agent': 'the-streamers-own-browser' },
    });
    assert.equal(preview.status, 200);
    const odd = await fetch(`${base}/hls/${streamer.username}/master.m3u8?preview=yes`);
    assert.equal(odd.status, 400);
    assert.match(String(odd.headers.get('content-type')), /application\/problem\+json/);
    const list = (await api<LiveStreamList>('/api/v1/streams')).body;
    const mine = list.items.find((s) => s.channel === streamer.username);
    // Two players named by ?v=, plus this test's own earlier polling, counted by IP + User-Agent.
    assert.equal(mine?.viewers, 3);
    assert.equal(mine?.broadcastId, broadcastId);
    assert.equal(mine?.thumbnailUrl, `/thumbnails/${streamer.username}.jpg`);
    // Until the first frame is grabbed, a live channel's thumbnail is 204 (nothing yet), never
    // an error a browser would log.
    const statuses = new Set<number>();
    const thumb = await waitFor(
      async () => {
        const r = await fetch(`${base}${mine.thumbnailUrl}`);
        statuses.add(r.status);
        if (r.status === 204) assert.equal(r.headers.get('cache-control'), 'no-store');
        return r.status === 200 ? r : undefined;
      },
      // The ladder's process grabs it; on a starved machine the ladder may have been restarted
      // (shedding) before its first grab, and each restart probes the input again.
      { what: 'the live thumbnail', timeoutMs: 40_000, intervalMs: 500 },
    );
    assert.deepEqual(
      [...statuses].filter((st) => st !== 204 && st !== 200),
      [],
    );
    assert.equal(thumb.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual([...Buffer.from(await thumb.arrayBuffer()).subarray(0, 2)], [0xff, 0xd8]);
    await waitFor(
      () =>
        events.some(
          (e) =>
            e.type === 'live.viewers.updated.v1' && 'viewers' in e.data && e.data.viewers === 3,
        ),
      { what: 'live.viewers.updated.v1 with 3 viewers', timeoutMs: 5000 },
    );
  });

  it('keeps a stream published while garbage hits the RTMP port', async () => {
    const port = live.rtmpPort()!;
    const junk = [
      randomBytes(4096),
      Buffer.concat([Buffer.from([3]), randomBytes(1536 * 2 + 500)]),
      Buffer.alloc(70_000, 0xff),
    ];
    await Promise.all(
      junk.map(
        (payload) =>
          new Promise<void>((resolve) => {
            const s = connect(port, '127.0.0.1', () => s.end(payload));
            s.on('error', () => resolve());
            s.on('close', () => resolve());
            s.resume();
          }),
      ),
    );
    const url = `/hls/${streamer.username}/160p/index.m3u8`;
    const before = lastPart((await text(url)).body);
    await waitFor(async () => lastPart((await text(url)).body).msn > before.msn, {
      timeoutMs: 10_000,
      what: 'the stream to keep advancing',
      intervalMs: 500,
    });
    assert.equal(publishers[1]!.exitCode, null, 'the publisher is still connected');
  });

  it('refuses a second publisher on a key that is live, and the first carries on', async () => {
    const second = publish(`${rtmp}/${key}`);
    publishers.push(second);
    assert.notEqual(await exitOf(second), 0);
    assert.equal(publishers[1]!.exitCode, null, 'the first publisher is still connected');
    assert.equal((await api<StreamSettings>('/api/v1/me/stream')).body.broadcastId, broadcastId);
  });

  it('continues the same broadcast with a discontinuity when the publisher returns within the grace window', async () => {
    await kill(publishers[1]!);
    const again = publish(`${rtmp}/${key}`);
    publishers.push(again);
    const url = `/hls/${streamer.username}/160p/index.m3u8`;
    await waitFor(async () => /#EXT-X-DISCONTINUITY\n/.test((await text(url)).body), {
      timeoutMs: 30_000,
      what: 'a discontinuity in the live playlist',
      intervalMs: 500,
    });
    assert.equal((await api<StreamSettings>('/api/v1/me/stream')).body.broadcastId, broadcastId);
    assert.ok(
      !events.some((e) => e.type === 'live.stream.ended.v1'),
      'no end while within the grace window',
    );
  });

  it('ends after the grace window: ended event, VOD listed and playable end to end with ENDLIST', async () => {
    await kill(publishers[3]!);
    await waitFor(
      () =>
        events.some((e) => e.type === 'live.stream.ended.v1' && e.data.broadcastId === broadcastId),
      {
        timeoutMs: 60_000,
        what: 'live.stream.ended.v1',
      },
    );
    const gone = await text(`/hls/${streamer.username}/master.m3u8`);
    assert.equal(gone.status, 404);
    assert.equal(JSON.parse(gone.body).code, 'LIVE_NOT_LIVE');
    const videos = (await api<VideoList>(`/api/v1/channels/${streamer.username}/videos`)).body
      .items;
    assert.equal(videos.length, 1);
    assert.equal(videos[0]!.id, broadcastId);
    assert.ok(videos[0]!.durationSeconds > 5, String(videos[0]!.durationSeconds));
    const vodMaster = await text(videos[0]!.playlistUrl);
    assert.equal(vodMaster.status, 200);
    const media = await text(`/vod/${broadcastId}/480p/index.m3u8`);
    assert.match(media.body, /#EXT-X-ENDLIST/);
    assert.match(media.body, /#EXT-X-DISCONTINUITY/);
    const { stdout } = await run(
      'ffprobe',
      [
        '-v',
        'error',
        '-count_packets',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=codec_name,nb_read_packets',
        '-of',
        'json',
        `${base}${videos[0]!.playlistUrl}`,
      ],
      { timeout: 60_000 },
    );
    const stream = (
      JSON.parse(stdout) as { streams: { codec_name: string; nb_read_packets: string }[] }
    ).streams[0]!;
    assert.equal(stream.codec_name, 'h264');
    // Most of the broadcast's frames are there (30 per second).
    assert.ok(Number(stream.nb_read_packets) >= videos[0]!.durationSeconds * 30 * 0.8, stdout);
    assert.ok(videos[0]!.thumbnailUrl, 'the VOD keeps a thumbnail');
    assert.deepEqual([...(await bytes(videos[0]!.thumbnailUrl)).subarray(0, 2)], [0xff, 0xd8]);
  });

  it('regenerating the key ends a live broadcast and invalidates the old key', async () => {
    const p = publish(`${rtmp}/${key}`);
    publishers.push(p);
    await waitFor(async () => (await api<StreamSettings>('/api/v1/me/stream')).body.live, {
      timeoutMs: 30_000,
      what: 'live again',
    });
    const { body } = await api<StreamKeyResponse>('/api/v1/me/stream-key', { method: 'POST' });
    assert.notEqual(body.streamKey, key);
    await exitOf(p);
    assert.equal((await api<StreamSettings>('/api/v1/me/stream')).body.live, false);
    const old = publish(`${rtmp}/${key}`);
    publishers.push(old);
    assert.notEqual(await exitOf(old), 0);
  });
});
