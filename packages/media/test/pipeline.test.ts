import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { SaxesParser } from 'saxes';
import { FlvReader, parseFragment, parseInit, startPipeline, type Pipeline } from '@neon/media';
import { FFMPEG, ffprobeJson, silentLogger } from './helpers.js';

/** Runs an ffmpeg that writes FLV to stdout and feeds every chunk to `sink`; resolves when it exits. */
function publish(args: string[], sink: (chunk: Buffer) => void): Promise<number | null> {
  const child = spawn(FFMPEG, ['-hide_banner', '-loglevel', 'error', ...args, '-f', 'flv', '-'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.on('data', sink);
  return new Promise((resolve) => child.on('close', resolve));
}

/** The pid of the pipeline's transcode ladder: the ffmpeg child of this process that runs x264. */
async function transcoderPid(): Promise<number> {
  const { stdout } = await promisify(execFile)('ps', [
    '-o',
    'pid=,args=',
    '--ppid',
    String(process.pid),
  ]);
  const line = stdout.split('\n').find((l) => l.includes('pipe:0') && l.includes('libx264'));
  assert.ok(line, stdout);
  return Number(line.trim().split(/\s+/)[0]);
}

function once(p: Pipeline, event: 'ready'): Promise<void> {
  return new Promise((resolve) => p.on(event, () => resolve()));
}

const attr = (line: string, name: string) =>
  new RegExp(`[:,]${name}=("[^"]*"|[^,]*)`).exec(line)?.[1]?.replace(/"/g, '');

/** A blocking reload, asked again while the answer is 503 (a loaded machine may lag real time). */
async function reload(
  p: Pipeline,
  rendition: string,
  q: { msn?: number; part?: number },
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await p.mediaPlaylist(rendition, q);
    } catch (err) {
      if (attempt >= 5 || (err as { code?: string }).code !== 'SERVICE_UNAVAILABLE') throw err;
    }
  }
}

function lastPart(playlist: string): { msn: number; part: number } {
  const l = playlist.trimEnd().split('\n');
  let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist)?.[1]);
  let part = -1;
  for (const line of l) {
    if (line.startsWith('#EXT-X-PART:')) part++;
    if (line.startsWith('#EXTINF:')) {
      msn++;
      part = -1;
    }
  }
  return { msn, part };
}

describe('pipeline: 720p30 H.264/AAC FLV through the ladder', () => {
  let dir: string;
  let pipeline: Pipeline;
  let publisher: Promise<number | null>;
  const errors: string[] = [];
  /** When each video keyframe (by FLV timestamp, ms) reached the pipeline. */
  const keyframes: { ts: number; arrivedAt: number }[] = [];
  const flv = new FlvReader();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'neon-pipeline-'));
    pipeline = startPipeline({
      ffmpegPath: FFMPEG,
      outputDir: join(dir, 'vod'),
      source: { width: 1280, height: 720, fps: 30, videoCodec: 'h264', audioCodec: 'aac' },
      logger: silentLogger,
      thumbnailPath: join(dir, 'thumb.jpg'),
      // The whole ladder is under test here; shed.test.ts covers turning rungs off under load.
      shed: false,
    });
    pipeline.on('error', (e) => errors.push(`${e.message}\n${e.stderr}`));
    const ready = once(pipeline, 'ready');
    publisher = publish(
      [
        '-re',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=1280x720:rate=30',
        '-f',
        'lavfi',
        '-i',
        'sine',
        '-t',
        '7',
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-g',
        '30',
        '-c:a',
        'aac',
      ],
      (chunk) => {
        const arrivedAt = Date.now();
        for (const tag of flv.push(chunk).tags)
          if (tag.type === 'video' && tag.keyframe && !tag.sequenceHeader)
            keyframes.push({ ts: tag.timestamp, arrivedAt });
        pipeline.write(chunk);
      },
    );
    await ready;
  });

  after(async () => {
    await pipeline.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists source, 720p, 480p, 360p and 160p with their attributes in the master playlist', () => {
    const master = pipeline.masterPlaylist();
    assert.ok(master);
    const variants = master
      .split('\n')
      .flatMap((line, i, all) =>
        line.startsWith('#EXT-X-STREAM-INF:') ? [[line, all[i + 1] ?? '']] : [],
      );
    assert.deepEqual(
      variants.map(([, uri]) => uri),
      [
        'source/index.m3u8',
        '720p/index.m3u8',
        '480p/index.m3u8',
        '360p/index.m3u8',
        '160p/index.m3u8',
      ],
    );
    assert.deepEqual(
      variants.map(([line]) => attr(line ?? '', 'RESOLUTION')),
      ['1280x720', '1280x720', '854x480', '640x360', '284x160'],
    );
    for (const [line] of variants) {
      assert.match(line ?? '', /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
      assert.ok(Number(attr(line ?? '', 'BANDWIDTH')) > 0);
      assert.ok(Number(attr(line ?? '', 'AVERAGE-BANDWIDTH')) > 0);
      assert.equal(attr(line ?? '', 'FRAME-RATE'), '30.000');
    }
    assert.match(master, /#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio".*URI="audio\/index\.m3u8"/);
    assert.deepEqual(
      pipeline.renditions.map((r) => r.name),
      ['source', '720p', '480p', '360p', '160p', 'audio'],
    );
  });

  it('advances the media playlists: a blocking reload for the next part returns it', async () => {
    for (const rendition of ['360p', 'audio']) {
      const now = await pipeline.mediaPlaylist(rendition, {});
      const last = lastPart(now);
      const next = await reload(pipeline, rendition, { msn: last.msn, part: last.part + 1 });
      const after = lastPart(next);
      assert.ok(after.msn > last.msn || after.part > last.part, `${rendition} did not advance`);
    }
    // Reports of the other video renditions' live edges, none for the lone audio rendition.
    const video = await pipeline.mediaPlaylist('360p', {});
    const reports = video.split('\n').filter((l) => l.startsWith('#EXT-X-RENDITION-REPORT:'));
    assert.deepEqual(
      reports.map((l) => attr(l, 'URI')),
      ['../source/index.m3u8', '../720p/index.m3u8', '../480p/index.m3u8', '../160p/index.m3u8'],
    );
    for (const l of reports)
      assert.ok(Number(attr(l, 'LAST-MSN')) >= 0 && Number(attr(l, 'LAST-PART')) >= 0);
    assert.equal((await pipeline.mediaPlaylist('audio', {})).includes('RENDITION-REPORT'), false);
  });

  it('answers the preload-hinted part as soon as it is produced', async () => {
    const playlist = await pipeline.mediaPlaylist('source', {});
    const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(playlist)?.[1];
    assert.ok(hint);
    const part = await pipeline.resource('source', hint);
    assert.ok(part && part.body.length > 0);
    assert.equal(part.contentType, 'video/mp4');
    const later = await pipeline.mediaPlaylist('source', {});
    assert.ok(later.includes(`URI="${hint}"`));
  });

  it('refuses a blocking reload too far ahead', async () => {
    const { msn } = lastPart(await pipeline.mediaPlaylist('480p', {}));
    await assert.rejects(pipeline.mediaPlaylist('480p', { msn: msn + 3 }), {
      code: 'LIVE_PART_TOO_FAR',
    });
    assert.equal(await pipeline.resource('480p', 'nope.m4s'), null);
    assert.equal(await pipeline.resource('1080p', 'init-0.mp4'), null);
  });

  it('cuts parts within the part target and segments that start on keyframes, aligned across renditions', async () => {
    // Wait for two complete segments everywhere.
    for (const r of pipeline.renditions) await reload(pipeline, r.name, { msn: 1 });
    const boundaries = new Map<string, number[]>();
    for (const r of pipeline.renditions) {
      const playlist = await pipeline.mediaPlaylist(r.name, {});
      const target = Number(/PART-TARGET=([\d.]+)/.exec(playlist)?.[1]);
      assert.equal(target, 0.25);
      for (const line of playlist.split('\n').filter((x) => x.startsWith('#EXT-X-PART:'))) {
        assert.ok(Number(attr(line, 'DURATION')) <= target, `${r.name}: ${line}`);
      }
      const init = await pipeline.resource(r.name, 'init-0.mp4');
      assert.ok(init);
      const track = parseInit(init.body);
      const starts: number[] = [];
      for (const uri of playlist.split('\n').filter((x) => /^s\d+\.m4s$/.test(x))) {
        const seg = await pipeline.resource(r.name, uri);
        assert.ok(seg, `${r.name}/${uri} is served`);
        const first = parseFragment(seg.body, track);
        if (r.kind === 'video')
          assert.equal(first.startsWithSync, true, `${r.name}/${uri} starts on a keyframe`);
        starts.push(Math.round((first.baseDecodeTime / track.timescale) * 1000));
      }
      if (r.kind === 'video') boundaries.set(r.name, starts);
    }
    const reference = boundaries.get('source');
    assert.ok(reference && reference.length >= 2);
    for (const [name, starts] of boundaries) {
      assert.deepEqual(
        starts.slice(0, reference.length),
        reference.slice(0, starts.length),
        `${name} aligned with source`,
      );
    }
  });

  it('produces segments ffprobe reads as H.264 at each rung resolution', async () => {
    const expected: Record<string, [number, number]> = {
      source: [1280, 720],
      '720p': [1280, 720],
      '480p': [854, 480],
      '360p': [640, 360],
      '160p': [284, 160],
    };
    for (const [name, [width, height]] of Object.entries(expected)) {
      const init = await pipeline.resource(name, 'init-0.mp4');
      const seg = await pipeline.resource(name, 's0.m4s');
      assert.ok(init && seg);
      const file = join(dir, `${name}.mp4`);
      await writeFile(file, Buffer.concat([init.body, seg.body]));
      const probe = await ffprobeJson(file);
      const video = probe.streams?.find((s) => s.codec_type === 'video');
      assert.deepEqual(
        [video?.codec_name, video?.width, video?.height],
        ['h264', width, height],
        name,
      );
    }
    const init = await pipeline.resource('audio', 'init-0.mp4');
    const seg = await pipeline.resource('audio', 's0.m4s');
    assert.ok(init && seg);
    await writeFile(join(dir, 'audio.mp4'), Buffer.concat([init.body, seg.body]));
    assert.equal((await ffprobeJson(join(dir, 'audio.mp4'))).streams?.[0]?.codec_name, 'aac');
  });

  it('writes a DASH manifest that parses and names segments that exist', async () => {
    const mpd = pipeline.dashManifest();
    assert.ok(mpd);
    type El = { name: string; attributes: Record<string, string>; parent: El | null };
    const stack: El[] = [];
    const all: El[] = [];
    const parser = new SaxesParser();
    parser.on('opentag', (tag) => {
      const el: El = {
        name: tag.name,
        attributes: tag.attributes,
        parent: stack.at(-1) ?? null,
      };
      all.push(el);
      if (!tag.isSelfClosing) stack.push(el);
    });
    parser.on('closetag', (tag) => {
      if (!tag.isSelfClosing) stack.pop();
    });
    parser.write(mpd).close();
    assert.equal(all[0]?.attributes.type, 'dynamic');
    const reps = all.filter((e) => e.name === 'Representation');
    assert.deepEqual(
      reps.map((r) => r.attributes.id),
      ['source', '720p', '480p', '360p', '160p', 'audio'],
    );
    let checked = 0;
    for (const rep of reps) {
      const template = all.find((e) => e.name === 'SegmentTemplate' && e.parent === rep);
      assert.ok(template);
      const id = rep.attributes.id ?? '';
      const initName = (template.attributes.initialization ?? '').replace(
        '$RepresentationID$/',
        '',
      );
      assert.ok(await pipeline.resource(id, initName), `${id}/${initName}`);
      let number = Number(template.attributes.startNumber);
      const timeline = all.filter((e) => e.name === 'S' && e.parent?.parent === template);
      assert.ok(timeline.length > 0);
      for (const s of timeline) {
        for (let i = 0; i <= Number(s.attributes.r ?? 0); i++) {
          const file = (template.attributes.media ?? '')
            .replace('$RepresentationID$/', '')
            .replace('$Number$', String(number++));
          assert.ok(await pipeline.resource(id, file), `${id}/${file} exists`);
          checked++;
        }
      }
    }
    assert.ok(checked >= reps.length);
  });

  it('dates each segment by when its media reached ingest (EXT-X-PROGRAM-DATE-TIME within 1 s)', async () => {
    const first = keyframes[0];
    assert.ok(first);
    /** When the media at `ms` into the stream arrived, from the nearest keyframe's arrival. */
    const arrival = (ms: number) => {
      const k = keyframes.reduce((a, b) =>
        Math.abs(b.ts - first.ts - ms) < Math.abs(a.ts - first.ts - ms) ? b : a,
      );
      return k.arrivedAt + (ms - (k.ts - first.ts));
    };
    for (const rendition of ['source', '360p']) {
      await reload(pipeline, rendition, { msn: 2 });
      const playlist = await pipeline.mediaPlaylist(rendition, {});
      const init = await pipeline.resource(rendition, 'init-0.mp4');
      assert.ok(init);
      const track = parseInit(init.body);
      let pdt: number | null = null;
      let checked = 0;
      for (const line of playlist.split('\n')) {
        if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:'))
          pdt = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
        if (!/^s\d+\.m4s$/.test(line) || pdt === null) continue;
        const seg = await pipeline.resource(rendition, line);
        assert.ok(seg);
        const ms = (parseFragment(seg.body, track).baseDecodeTime / track.timescale) * 1000;
        const off = pdt - arrival(ms);
        assert.ok(Math.abs(off) < 1000, `${rendition}/${line} dated ${off} ms from its arrival`);
        checked++;
      }
      assert.ok(checked >= 2, playlist);
    }
  });

  it('ends with ENDLIST and a VOD playlist ffprobe reads end to end, keeping a thumbnail', async () => {
    assert.equal(await publisher, 0);
    const result = await pipeline.end();
    assert.ok(result.durationSeconds >= 5, `duration ${result.durationSeconds}`);
    assert.equal(result.masterPath, join(dir, 'vod', 'master.m3u8'));
    assert.ok((await pipeline.mediaPlaylist('360p', {})).trimEnd().endsWith('#EXT-X-ENDLIST'));
    const vodMaster = await readFile(result.masterPath, 'utf8');
    assert.match(vodMaster, /360p\/index\.m3u8/);
    const vod360 = await readFile(join(dir, 'vod', '360p', 'index.m3u8'), 'utf8');
    assert.ok(vod360.includes('#EXT-X-PLAYLIST-TYPE:VOD'));
    assert.ok(vod360.trimEnd().endsWith('#EXT-X-ENDLIST'));
    const probe = await ffprobeJson(join(dir, 'vod', '360p', 'index.m3u8'), [
      '-count_packets',
      '-allowed_extensions',
      'ALL',
    ]);
    const video = probe.streams?.find((s) => s.codec_type === 'video') as
      { nb_read_packets?: string } | undefined;
    const packets = Number(video?.nb_read_packets);
    assert.ok(
      Math.abs(packets - result.durationSeconds * 30) <= 45,
      `${packets} packets for ${result.durationSeconds} s`,
    );
    const all = await ffprobeJson(result.masterPath);
    assert.ok(Number(all.format?.duration) >= 5);
    assert.ok((await stat(join(dir, 'thumb.jpg'))).size > 1000);
    assert.deepEqual(errors, []);
  });
});

describe('pipeline: audio-only and video-only sources, a returning publisher', () => {
  it('packages an audio-only broadcast as a single audio variant', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'neon-pipeline-'));
    const pipeline = startPipeline({
      ffmpegPath: FFMPEG,
      outputDir: dir,
      source: {},
      logger: silentLogger,
    });
    try {
      await publish(['-f', 'lavfi', '-i', 'sine', '-t', '3', '-c:a', 'aac'], (c) =>
        pipeline.write(c),
      );
      const result = await pipeline.end();
      assert.deepEqual(
        pipeline.renditions.map((r) => r.name),
        ['audio'],
      );
      assert.match(pipeline.masterPlaylist() ?? '', /CODECS="mp4a\.40\.2"\naudio\/index\.m3u8/);
      assert.ok(result.durationSeconds >= 2.5);
      const probe = await ffprobeJson(result.masterPath);
      assert.equal(probe.streams?.[0]?.codec_name, 'aac');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('packages a video-only broadcast and marks a returning publisher with a discontinuity', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'neon-pipeline-'));
    const pipeline = startPipeline({
      ffmpegPath: FFMPEG,
      outputDir: dir,
      source: { width: 320, height: 180 },
      logger: silentLogger,
    });
    const source = [
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x180:rate=30',
      '-t',
      '3',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '30',
    ];
    try {
      await publish(source, (c) => pipeline.write(c));
      pipeline.discontinuity();
      await publish(source, (c) => pipeline.write(c));
      const result = await pipeline.end();
      assert.deepEqual(
        pipeline.renditions.map((r) => r.name),
        ['source', '160p'],
      );
      assert.doesNotMatch(pipeline.masterPlaylist() ?? '', /mp4a|TYPE=AUDIO/);
      const playlist = await pipeline.mediaPlaylist('160p', {});
      const l = playlist.split('\n');
      const disc = l.indexOf('#EXT-X-DISCONTINUITY');
      assert.ok(disc > 0, playlist);
      assert.equal(l[disc + 1], '#EXT-X-MAP:URI="init-1.mp4"');
      assert.ok(result.durationSeconds >= 5);
      const vod = await readFile(join(dir, '160p', 'index.m3u8'), 'utf8');
      assert.ok(vod.includes('#EXT-X-DISCONTINUITY'));
      assert.ok(await pipeline.resource('160p', 'init-1.mp4'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('restarts a crashed ffmpeg and carries on after a discontinuity', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'neon-pipeline-'));
    const pipeline = startPipeline({
      ffmpegPath: FFMPEG,
      outputDir: dir,
      source: { width: 320, height: 180 },
      logger: silentLogger,
    });
    const errors: { command: string }[] = [];
    pipeline.on('error', (e) => errors.push(e));
    const ready = once(pipeline, 'ready');
    const publisher = publish(
      [
        '-re',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x180:rate=30',
        '-t',
        '6',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-g',
        '30',
      ],
      (c) => pipeline.write(c),
    );
    try {
      await ready;
      process.kill(await transcoderPid(), 'SIGKILL');
      assert.equal(await publisher, 0);
      const result = await pipeline.end();
      assert.equal(errors.length, 1);
      assert.match(errors[0]?.command ?? '', /ffmpeg .*-i pipe:0/);
      const vod = await readFile(join(dir, '160p', 'index.m3u8'), 'utf8');
      assert.ok(vod.includes('#EXT-X-DISCONTINUITY'), vod);
      assert.ok(vod.includes('#EXT-X-MAP:URI="init-1.mp4"'));
      // The recording ran in its own process: one unbroken timeline.
      const source = await readFile(join(dir, 'source', 'index.m3u8'), 'utf8');
      assert.ok(!source.includes('#EXT-X-DISCONTINUITY'), source);
      assert.ok(result.durationSeconds >= 5.5, `duration ${result.durationSeconds}`);
    } finally {
      await pipeline.end();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('pipeline: the recording does not depend on the transcoder', () => {
  const SECONDS = 8;
  const FPS = 30;

  it('keeps the whole broadcast when the transcoder stalls mid-way and is stopped at the end', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'neon-pipeline-'));
    const pipeline = startPipeline({
      ffmpegPath: FFMPEG,
      outputDir: dir,
      source: { width: 320, height: 180, fps: FPS },
      logger: silentLogger,
      // Stopped this soon after the publisher leaves, with most of the broadcast still queued.
      ladderDrainMs: 500,
    });
    const ready = once(pipeline, 'ready');
    const publisher = publish(
      [
        '-re',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=320x180:rate=${FPS}`,
        '-f',
        'lavfi',
        '-i',
        'sine',
        '-t',
        String(SECONDS),
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-g',
        String(FPS),
        '-c:a',
        'aac',
      ],
      (c) => pipeline.write(c),
    );
    let stalled: number | null = null;
    try {
      await ready;
      // A transcoder that can no longer keep up: it reads and encodes nothing more.
      stalled = await transcoderPid();
      process.kill(stalled, 'SIGSTOP');
      assert.equal(await publisher, 0);
      const result = await pipeline.end();

      const published = SECONDS;
      assert.ok(
        Math.abs(result.durationSeconds - published) <= published * 0.02,
        `recorded ${result.durationSeconds} s of ${published} s`,
      );
      const source = await ffprobeJson(join(dir, 'source', 'index.m3u8'), [
        '-count_packets',
        '-allowed_extensions',
        'ALL',
      ]);
      const frames = Number(
        (source.streams?.[0] as { nb_read_packets?: string } | undefined)?.nb_read_packets,
      );
      assert.ok(
        Math.abs(frames - published * FPS) <= published * FPS * 0.02,
        `${frames} frames recorded of ${published * FPS}`,
      );
      const audio = await readFile(join(dir, 'audio', 'index.m3u8'), 'utf8');
      const audioSeconds = [...audio.matchAll(/#EXTINF:([\d.]+)/g)].reduce(
        (a, m) => a + Number(m[1]),
        0,
      );
      assert.ok(Math.abs(audioSeconds - published) <= published * 0.02, `audio ${audioSeconds} s`);

      // The stalled rung is cut short, so the recording's master leaves it out.
      const short = await readFile(join(dir, '160p', 'index.m3u8'), 'utf8');
      const shortSeconds = [...short.matchAll(/#EXTINF:([\d.]+)/g)].reduce(
        (a, m) => a + Number(m[1]),
        0,
      );
      assert.ok(shortSeconds < published * 0.98, `160p has ${shortSeconds} s`);
      const master = await readFile(result.masterPath, 'utf8');
      assert.match(master, /^source\/index\.m3u8$/m);
      assert.doesNotMatch(master, /160p/);
      const whole = await ffprobeJson(result.masterPath);
      assert.ok(
        Math.abs(Number(whole.format?.duration) - published) <= published * 0.02,
        `the VOD plays ${whole.format?.duration} s`,
      );
    } finally {
      if (stalled !== null) {
        try {
          process.kill(stalled, 'SIGKILL');
        } catch {
          // Already gone: the pipeline stopped it.
        }
      }
      await pipeline.end();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
