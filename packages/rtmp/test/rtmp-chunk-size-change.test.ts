import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkMessage, newSession, publishScript, setChunkSize } from '@neon/rtmp/testing';

/** Video messages of `size` bytes chunked at `chunkSize`, timestamps from `t0` by 33. */
function frames(n: number, size: number, chunkSize: number, t0: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const payload = Buffer.alloc(size, (i + t0) & 0xff);
    payload[0] = 0x27;
    out.push(
      chunkMessage({
        csid: 6,
        fmt: i === 0 ? 0 : 1,
        typeId: 9,
        streamId: 1,
        timestamp: i === 0 ? t0 : 33,
        payload,
        chunkSize,
      }),
    );
  }
  return out;
}

test('chunk size changes mid-stream, several times, in the same read as the data after it', () => {
  const run = newSession();
  run.session.feed(publishScript({ chunkSize: 128, frames: 0, unpublish: false }).bytes);
  const before = run.events.video!.length;
  const stream = Buffer.concat([
    ...frames(3, 1000, 128, 0),
    setChunkSize(4096, 128),
    ...frames(3, 10_000, 4096, 1000),
    setChunkSize(60_000, 4096),
    ...frames(3, 150_000, 60_000, 2000),
    // Back down, below the default.
    setChunkSize(1, 60_000),
    ...frames(2, 300, 1, 3000),
    setChunkSize(65536, 1),
    ...frames(1, 70_000, 65536, 4000),
  ]);
  assert.equal(run.session.feed(stream), undefined);
  const v = run.events.video!.slice(before);
  assert.deepEqual(
    v.map((e) => [e.tag.timestamp, e.tag.payload.length, e.tag.payload[100] ?? -1]),
    [
      [0, 1000, 0],
      [33, 1000, 1],
      [66, 1000, 2],
      [1000, 10_000, 1000 & 0xff],
      [1033, 10_000, 1001 & 0xff],
      [1066, 10_000, 1002 & 0xff],
      [2000, 150_000, 2000 & 0xff],
      [2033, 150_000, 2001 & 0xff],
      [2066, 150_000, 2002 & 0xff],
      [3000, 300, 3000 & 0xff],
      [3033, 300, 3001 & 0xff],
      [4000, 70_000, 4000 & 0xff],
    ],
  );
});

test('the same stream fed one byte at a time, with the Set Chunk Size message split across reads', () => {
  const run = newSession();
  run.session.feed(publishScript({ chunkSize: 128, frames: 0, unpublish: false }).bytes);
  const before = run.events.video!.length;
  const stream = Buffer.concat([
    ...frames(2, 1000, 128, 0),
    setChunkSize(4096, 128),
    ...frames(2, 9000, 4096, 1000),
    setChunkSize(200, 4096),
    ...frames(2, 999, 200, 2000),
  ]);
  for (let i = 0; i < stream.length; i++) {
    assert.equal(run.session.feed(stream.subarray(i, i + 1)), undefined);
  }
  assert.deepEqual(
    run.events.video!.slice(before).map((e) => [e.tag.timestamp, e.tag.payload.length]),
    [
      [0, 1000],
      [33, 1000],
      [1000, 9000],
      [1033, 9000],
      [2000, 999],
      [2033, 999],
    ],
  );
});

test('a chunk size change while another chunk stream has a message half received', () => {
  // Audio on csid 4 is interleaved with video on csid 6; the size changes between their chunks.
  const run = newSession();
  run.session.feed(publishScript({ chunkSize: 128, frames: 0, unpublish: false }).bytes);
  const before = run.events.video!.length;
  const video = chunkMessage({
    csid: 6,
    fmt: 0,
    typeId: 9,
    streamId: 1,
    timestamp: 100,
    payload: Buffer.alloc(300, 0x27),
    chunkSize: 128,
  });
  // First chunk of the video (1 + 11 header + 128), then the size change, then the rest at 4096.
  run.session.feed(video.subarray(0, 140));
  run.session.feed(setChunkSize(4096, 128));
  const rest = Buffer.concat([Buffer.of(0xc6), Buffer.alloc(172, 0x27)]);
  run.session.feed(rest);
  assert.equal(run.events.error, undefined);
  assert.deepEqual(
    run.events.video!.slice(before).map((e) => [e.tag.timestamp, e.tag.payload.length]),
    [[100, 300]],
  );
});

test('a peer announcing a chunk size above the limit, zero, or with the top bit set is refused', () => {
  for (const size of [65537, 0, 0x80000000, 0xffffffff]) {
    const run = newSession();
    run.session.feed(publishScript({ chunkSize: 128, frames: 0, unpublish: false }).bytes);
    const err = run.session.feed(setChunkSize(size, 128));
    assert.equal(err?.code, 'RTMP_CHUNK_SIZE_INVALID', `size ${size}`);
    assert.equal(run.events.error?.[0]?.code, 'RTMP_CHUNK_SIZE_INVALID');
  }
});
