import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultRtmpLimits } from '@neon/rtmp';
import {
  basicHeader,
  chunkMessage,
  newSession,
  publishScript,
  videoFrame,
} from '@neon/rtmp/testing';

// The largest message a publisher may send is 8 MiB (packages/rtmp/README.md,
// docs/errors.md: RTMP_MESSAGE_TOO_LARGE "a message declared above 8 MiB").
// RTMP's length field could say up to 16 MiB - 1; a keyframe of a 1080p60
// stream at 50 Mbit/s is well under 8 MiB. Written out as a figure on purpose:
// a probe derived from the limit in the code would follow the code anywhere.
const EIGHT_MIB = 8_388_608;

function publishing(): ReturnType<typeof newSession> {
  const run = newSession();
  run.session.feed(publishScript({ frames: 0, unpublish: false, chunkSize: 65536 }).bytes);
  assert.equal(run.events.error, undefined);
  return run;
}

/** A whole video message of `size` bytes on the publish stream. */
function video(size: number): Buffer {
  return chunkMessage({
    csid: 6,
    fmt: 0,
    typeId: 9,
    streamId: 1,
    timestamp: 40,
    payload: videoFrame(true, size, 7),
    chunkSize: 65536,
  });
}

test('the default message limit is 8 MiB', () => {
  assert.equal(defaultRtmpLimits.maxMessageLength, EIGHT_MIB);
});

test('a video message of exactly 8 MiB, or one byte less, reaches the host whole', () => {
  for (const size of [EIGHT_MIB - 1, EIGHT_MIB]) {
    const run = publishing();
    const before = run.events.video?.length ?? 0; // the sequence header
    assert.equal(run.session.feed(video(size)), undefined, `${size} bytes`);
    assert.equal(run.events.error, undefined);
    const got = (run.events.video ?? []).slice(before);
    assert.equal(got.length, 1, `${size} bytes delivered`);
    assert.equal(got[0]!.tag.payload.length, size);
    assert.ok(got[0]!.tag.payload.equals(videoFrame(true, size, 7)));
    assert.equal(run.session.phase, 'open');
  }
});

test('a message declared one byte over 8 MiB is refused from its header alone', () => {
  for (const size of [EIGHT_MIB + 1, 15 * 1024 * 1024, 0xffffff]) {
    const run = publishing();
    const before = run.events.video?.length ?? 0;
    const header = Buffer.alloc(11);
    header.writeUIntBE(40, 0, 3);
    header.writeUIntBE(size, 3, 3);
    header[6] = 9;
    header.writeUInt32LE(1, 7);
    const err = run.session.feed(Buffer.concat([basicHeader(0, 6), header]));
    assert.equal(err?.code, 'RTMP_MESSAGE_TOO_LARGE', `${size} bytes`);
    assert.equal(run.session.phase, 'failed');
    assert.equal(run.events.video?.length ?? 0, before);
  }
});
