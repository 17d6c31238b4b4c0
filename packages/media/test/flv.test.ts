import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { FlvReader, flvHeader, metadataNumber, type FlvTag } from '@neon/media';
import { syntheticSourceArgs } from '@neon/testing';
import { FFMPEG } from './helpers.js';

function makeFlv(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      FFMPEG,
      // Two seconds of the tests' synthetic source, at once rather than in real time.
      syntheticSourceArgs('-', { width: 320, height: 180, seconds: 2, realtime: false }),
      { encoding: 'buffer', maxBuffer: 32 * 1024 * 1024 },
      (err, stdout) => (err ? reject(new Error(err.message)) : resolve(stdout)),
    );
  });
}

describe('FLV tag reader', () => {
  it('reads the header and whole tags whatever the chunking', async () => {
    const flv = await makeFlv();
    const reader = new FlvReader();
    const tags: FlvTag[] = [];
    let header = null;
    for (let at = 0; at < flv.length; at += 333) {
      const out = reader.push(flv.subarray(at, at + 333));
      header ??= out.header;
      tags.push(...out.tags);
    }
    assert.deepEqual([header?.hasAudio, header?.hasVideo], [true, true]);
    assert.equal(13 + tags.reduce((n, t) => n + t.bytes.length, 0), flv.length);
    assert.equal(tags[0]?.type, 'script');
    const video = tags.filter((t) => t.type === 'video');
    const audio = tags.filter((t) => t.type === 'audio');
    assert.equal(video[0]?.sequenceHeader, true);
    assert.equal(video[0]?.codecId, 7);
    assert.equal(audio[0]?.sequenceHeader, true);
    assert.equal(audio[0]?.codecId, 10);
    // A keyframe every 30 frames (the sequence header is flagged as a keyframe too).
    const keyframes = video.filter((t) => t.keyframe && !t.sequenceHeader).map((t) => t.timestamp);
    assert.ok(keyframes.length >= 2);
    assert.equal((keyframes[1] ?? 0) - (keyframes[0] ?? 0), 1000);
    assert.equal(metadataNumber(tags[0], 'width'), 320);
    assert.equal(metadataNumber(tags[0], 'height'), 180);
    assert.equal(metadataNumber(tags[0], 'nonexistent'), undefined);
  });

  it('starts over on reset and accepts a stream without a header', async () => {
    const flv = await makeFlv();
    const reader = new FlvReader();
    reader.push(flv.subarray(0, 500));
    reader.reset();
    const again = reader.push(flv);
    assert.ok(again.header);
    const headless = new FlvReader().push(flv.subarray(13));
    assert.equal(headless.header, null);
    assert.equal(headless.tags.length, again.tags.length);
  });

  it('refuses a tag larger than its limit instead of buffering it', () => {
    const reader = new FlvReader(1024);
    const tag = Buffer.from([9, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.throws(() => reader.push(Buffer.concat([flvHeader(true, true), tag])));
  });
});
