import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amfObject } from '@neon/rtmp';
import {
  basicHeader,
  chunkMessage,
  command,
  handshake,
  newSession,
  publishScript,
  setChunkSize,
  videoFrame,
} from '@neon/rtmp/testing';

// Before a publish is accepted a peer has proved nothing, so it may only make
// the server hold 64 KiB: one message declared at most that long, and at most
// that much in unfinished messages together. Written out as a figure on purpose.
const BUDGET = 65_536;

/** A type-0 header announcing `length` bytes on `csid`, with no payload. */
function header(csid: number, length: number, typeId = 9): Buffer {
  const h = Buffer.alloc(11);
  h.writeUIntBE(length, 3, 3);
  h[6] = typeId;
  h.writeUInt32LE(1, 7);
  return Buffer.concat([basicHeader(0, csid), h]);
}

function connected(
  options: Parameters<typeof newSession>[0] = {},
  chunkSize = 65536,
): ReturnType<typeof newSession> {
  const run = newSession(options, 'none');
  run.session.feed(handshake());
  run.session.feed(command(3, 0, 128, 'connect', 1, amfObject({ app: 'live' })));
  if (chunkSize !== 128) run.session.feed(setChunkSize(chunkSize));
  assert.equal(run.events.error, undefined);
  return run;
}

test('a 7.8 MiB message header before connect is refused from the header alone', () => {
  const run = newSession({}, 'none');
  run.session.feed(handshake());
  const err = run.session.feed(header(4, 8_178_892));
  assert.equal(err?.code, 'RTMP_MESSAGE_TOO_LARGE');
  assert.equal(run.session.phase, 'failed');
  assert.equal(run.session.bufferedBytes, 0);
});

test('before publish a message may be declared 64 KiB, not a byte more', () => {
  const ok = connected();
  const whole = chunkMessage({
    csid: 6,
    fmt: 0,
    typeId: 9,
    streamId: 1,
    payload: videoFrame(true, BUDGET, 3),
    chunkSize: 65536,
  });
  assert.equal(ok.session.feed(whole), undefined);
  assert.equal(ok.session.phase, 'open');

  const over = connected();
  assert.equal(over.session.feed(header(6, BUDGET + 1))?.code, 'RTMP_MESSAGE_TOO_LARGE');
  assert.equal(over.session.phase, 'failed');
});

test('before publish unfinished messages together may hold 64 KiB', () => {
  const run = connected({}, 128);
  // Two unfinished messages of 30,000 bytes fit; a third (90,000 together) does not.
  // Each gets one whole 128-byte chunk, so the next header starts a new message.
  const part = (csid: number) => Buffer.concat([header(csid, 30_000), Buffer.alloc(128, 1)]);
  assert.equal(run.session.feed(part(10)), undefined);
  assert.equal(run.session.feed(part(11)), undefined);
  assert.equal(run.session.feed(part(12))?.code, 'RTMP_BUFFER_LIMIT_EXCEEDED');
  assert.equal(run.session.bufferedBytes, 0, 'everything held is dropped');
});

test('a publish waiting for its decision still has only the small budget', () => {
  const run = connected();
  run.session.feed(command(3, 0, 65536, 'createStream', 2, null));
  run.session.feed(command(8, 1, 65536, 'publish', 3, null, 'key', 'live'));
  assert.equal(run.events.publish?.length, 1);
  assert.equal(run.session.feed(header(6, 7 * 1024 * 1024))?.code, 'RTMP_MESSAGE_TOO_LARGE');
});

test('an accepted publish lifts the budget to the normal limits', () => {
  const run = newSession();
  run.session.feed(publishScript({ frames: 0, unpublish: false, chunkSize: 4096 }).bytes);
  assert.ok(run.session.isPublishing);
  const size = 5 * 1024 * 1024;
  // Two unfinished 5 MiB keyframes and a whole one: far beyond the small budget.
  for (const csid of [10, 11]) {
    assert.equal(
      run.session.feed(Buffer.concat([header(csid, size), Buffer.alloc(4096)])),
      undefined,
    );
  }
  const before = run.events.video?.length ?? 0;
  const frame = chunkMessage({
    csid: 6,
    fmt: 0,
    typeId: 9,
    streamId: 1,
    payload: videoFrame(true, size, 5),
    chunkSize: 4096,
  });
  assert.equal(run.session.feed(frame), undefined);
  assert.equal((run.events.video?.length ?? 0) - before, 1);
});

test('prePublishLimits replaces the budget; null keeps the normal limits from the start', () => {
  const tight = connected({ prePublishLimits: { maxMessageLength: 1000 } });
  assert.equal(tight.session.feed(header(6, 1001))?.code, 'RTMP_MESSAGE_TOO_LARGE');

  const open = connected({ prePublishLimits: null });
  assert.equal(open.session.feed(header(6, 7 * 1024 * 1024)), undefined);
});
