import { spawn, execFile } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amf0DecodeAll, flvHeader, flvTag, AmfEcmaArray } from '@neon/rtmp';
import { statusCodes } from '@neon/rtmp/testing';
import { syntheticSourceArgs } from '@neon/testing';
import { startRtmpServer } from './server.js';

const FFMPEG = '/usr/bin/ffmpeg';
const FFPROBE = '/usr/bin/ffprobe';
const pexec = promisify(execFile);

function publish(url: string, seconds: number): Promise<{ code: number; stderr: string }> {
  const args = syntheticSourceArgs(url, { width: 640, height: 360, seconds });
  return new Promise((resolve) => {
    const child = spawn(FFMPEG, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A hung publisher must not outlive the test.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stderr });
    });
  });
}

test('ffmpeg publishes H.264 + AAC: publish, metadata, sequence headers, keyframes; the FLV we write is readable', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'neon-rtmp-'));
  const server = await startRtmpServer((req) =>
    req.streamKey === 'sk_good' ? 'accept' : 'reject',
  );
  t.after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  // A peer sending garbage at the same time: its connection ends, the publish carries on.
  const garbage = connect(server.port, '127.0.0.1');
  garbage.on('error', () => undefined);
  garbage.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  const garbageClosed = new Promise<void>((r) => garbage.on('close', () => r()));
  const publishing = publish(`rtmp://127.0.0.1:${server.port}/live/sk_good`, 3);
  await garbageClosed;
  const result = await publishing;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(server.connections.length, 2);
  const bad = server.connections.find((c) => c.errors.length > 0);
  assert.equal(bad?.errors[0]?.code, 'RTMP_HANDSHAKE_VERSION_UNSUPPORTED');
  const conn = server.connections.find((c) => c !== bad)!;
  await conn.closed;
  assert.deepEqual(conn.errors, []);

  assert.equal(conn.events.connect?.[0]?.app, 'live');
  const pub = conn.events.publish?.[0];
  assert.equal(pub?.streamKey, 'sk_good');
  assert.equal(pub?.app, 'live');
  assert.equal(JSON.stringify(pub).includes('sk_good'), false, 'the key never reaches a log line');

  const meta = conn.events.metadata?.[0]?.metadata;
  assert.equal(meta?.width, 640);
  assert.equal(meta?.height, 360);
  assert.equal(meta?.framerate, 30);
  assert.equal(meta?.videocodecid, 7);
  assert.equal(meta?.audiocodecid, 10);
  assert.match(meta?.encoder ?? '', /^Lavf/);

  const video = conn.events.video ?? [];
  const audio = conn.events.audio ?? [];
  const avcHeader = video.find((v) => v.info.sequenceHeader);
  assert.ok(avcHeader?.info.avc, 'AVC sequence header with a parsable avcC');
  assert.match(avcHeader.info.avc.codec, /^avc1\.[0-9a-f]{6}$/);
  assert.equal(avcHeader.info.avc.sps.length, 1);
  const aacHeader = audio.find((a) => a.info.sequenceHeader);
  assert.equal(aacHeader?.info.aac?.codec, 'mp4a.40.2');
  assert.equal(aacHeader?.info.aac?.sampleRate, 48000); // the synthetic source's tone is 48 kHz
  const keyframes = video.filter((v) => v.info.keyframe && !v.info.sequenceHeader);
  // 3 s at 30 fps with a keyframe every 30 frames.
  assert.ok(keyframes.length >= 3, `keyframes: ${keyframes.length}`);
  assert.ok(video.length >= 85, `video frames: ${video.length}`);
  const last = video[video.length - 1]!.tag.timestamp;
  assert.ok(last >= 2800 && last <= 3100, `last video timestamp ${last}`);
  for (let i = 1; i < video.length; i++) {
    assert.ok(
      video[i]!.tag.timestamp >= video[i - 1]!.tag.timestamp,
      'video timestamps never go back',
    );
  }
  assert.equal(conn.events.unpublish?.length, 1);

  const tags = [
    flvHeader({ audio: true, video: true }),
    flvTag(18, 0, conn.events.metadata![0]!.tag.payload),
    ...[...video, ...audio]
      .sort((a, b) => a.tag.timestamp - b.tag.timestamp)
      .map((e) => flvTag(e.tag.type, e.tag.timestamp, e.tag.payload)),
  ];
  const file = join(dir, 'out.flv');
  await writeFile(file, Buffer.concat(tags));
  const { stdout } = await pexec(FFPROBE, [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_name,width,height',
    '-of',
    'json',
    file,
  ]);
  const probe = JSON.parse(stdout) as {
    streams: { codec_name: string; width?: number; height?: number }[];
  };
  const v = probe.streams.find((s) => s.codec_name === 'h264');
  assert.equal(v?.width, 640);
  assert.equal(v?.height, 360);
  assert.ok(probe.streams.some((s) => s.codec_name === 'aac'));
  const metaValues = amf0DecodeAll(conn.events.metadata![0]!.tag.payload);
  assert.equal(metaValues[0], 'onMetaData');
  assert.ok(metaValues[1] instanceof AmfEcmaArray);
});

test('a rejected key: ffmpeg exits non-zero, the session answered BadName and emitted no media', async (t) => {
  const server = await startRtmpServer(() => 'reject');
  t.after(() => server.close());
  const result = await publish(`rtmp://127.0.0.1:${server.port}/live/sk_wrong`, 2);
  assert.notEqual(result.code, 0);
  const conn = server.connections[0]!;
  await conn.closed;
  assert.equal(conn.events.publish?.[0]?.streamKey, 'sk_wrong');
  assert.deepEqual(statusCodes(conn.sent), ['NetStream.Publish.BadName']);
  assert.equal(conn.events.video, undefined);
  assert.equal(conn.events.audio, undefined);
});
