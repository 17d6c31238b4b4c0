import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FlvFormatError,
  flvHeader,
  flvTag,
  flvTagParts,
  parseAacConfig,
  parseAudioTag,
  parseFlv,
  parseVideoTag,
} from '@neon/rtmp';
import { avcSequenceHeader } from '@neon/rtmp/testing';

test('header and tags are laid out as the FLV specification says', () => {
  assert.deepEqual(
    flvHeader({ audio: true, video: true }),
    Buffer.from('464c5601050000000900000000', 'hex'),
  );
  assert.equal(flvHeader({ audio: true, video: false })[4], 4);
  assert.equal(flvHeader({ audio: false, video: true })[4], 1);
  const payload = Buffer.from('hello');
  const tag = flvTag(9, 0x12345678, payload);
  assert.deepEqual(
    tag,
    Buffer.concat([
      Buffer.from('09000005345678120000', 'hex'),
      Buffer.of(0),
      payload,
      Buffer.from('00000010', 'hex'),
    ]),
  );
  assert.deepEqual(Buffer.concat(flvTagParts(9, 0x12345678, payload)), tag);
});

test('parseFlv reads back what the writer wrote, including 32-bit timestamps', () => {
  const tags = [
    { type: 18 as const, timestamp: 0, payload: Buffer.from('meta') },
    { type: 9 as const, timestamp: 0xfffffe, payload: Buffer.alloc(100, 1) },
    { type: 8 as const, timestamp: 0x01000000, payload: Buffer.alloc(0) },
    { type: 9 as const, timestamp: 0xffffffff, payload: Buffer.alloc(3, 2) },
  ];
  const file = Buffer.concat([
    flvHeader({ audio: true, video: true }),
    ...tags.map((t) => flvTag(t.type, t.timestamp, t.payload)),
  ]);
  const parsed = parseFlv(file);
  assert.equal(parsed.audio && parsed.video, true);
  assert.deepEqual(parsed.tags, tags);
  assert.equal(parsed.trailing, 0);
  assert.equal(parseFlv(file.subarray(0, file.length - 2)).trailing, 3 + 11 + 4 - 2);
  const bad = Buffer.from(file);
  bad.writeUInt32BE(7, 13 + 11 + 4); // wrong PreviousTagSize after the first tag
  assert.throws(() => parseFlv(bad), FlvFormatError);
  assert.throws(() => parseFlv(Buffer.from('not flv at all')), FlvFormatError);
});

test('video tag info: AVC sequence header, keyframe, composition time', () => {
  const seq = parseVideoTag(avcSequenceHeader());
  assert.equal(seq?.sequenceHeader, true);
  assert.equal(seq?.codecId, 7);
  assert.equal(seq?.avc?.codec, 'avc1.64001f');
  assert.equal(seq?.avc?.nalLengthSize, 4);
  assert.equal(seq?.avc?.pps.length, 1);
  const key = parseVideoTag(Buffer.of(0x17, 1, 0xff, 0xff, 0xfe, 0, 0, 0, 1, 0x65));
  assert.equal(key?.keyframe, true);
  assert.equal(key?.sequenceHeader, false);
  assert.equal(key?.compositionTime, -2);
  const inter = parseVideoTag(Buffer.of(0x27, 1, 0, 0, 66));
  assert.equal(inter?.keyframe, false);
  assert.equal(inter?.compositionTime, 66);
  // Enhanced RTMP (HEVC): recognised, not misread as a codec id.
  const ex = parseVideoTag(Buffer.concat([Buffer.of(0x90), Buffer.from('hvc1')]));
  assert.equal(ex?.fourCc, 'hvc1');
  assert.equal(ex?.keyframe, true);
  assert.equal(ex?.sequenceHeader, true);
  assert.equal(parseVideoTag(Buffer.alloc(0)), undefined);
  // A truncated avcC is reported as absent, not thrown.
  assert.equal(parseVideoTag(avcSequenceHeader().subarray(0, 12))?.avc, undefined);
});

test('audio tag info: AAC sequence header and AudioSpecificConfig', () => {
  const seq = parseAudioTag(Buffer.of(0xaf, 0, 0x11, 0x90));
  assert.equal(seq?.codecId, 10);
  assert.equal(seq?.sequenceHeader, true);
  assert.deepEqual(seq?.aac, { objectType: 2, sampleRate: 48000, channels: 2, codec: 'mp4a.40.2' });
  assert.equal(parseAudioTag(Buffer.of(0xaf, 1, 0x21))?.sequenceHeader, false);
  // HE-AAC with an explicit frequency (index 15).
  const explicit = Buffer.alloc(5);
  // objectType 5 (5 bits) | index 15 (4 bits) | 24-bit rate 0x00ac44 (44100) | channels 1 (4 bits)
  let bits = 5n;
  bits = (bits << 4n) | 15n;
  bits = (bits << 24n) | 44100n;
  bits = (bits << 4n) | 1n;
  bits <<= 3n; // pad to 40 bits
  for (let i = 0; i < 5; i++) explicit[i] = Number((bits >> BigInt(8 * (4 - i))) & 0xffn);
  assert.deepEqual(parseAacConfig(explicit), {
    objectType: 5,
    sampleRate: 44100,
    channels: 1,
    codec: 'mp4a.40.5',
  });
  assert.equal(parseAacConfig(Buffer.of(0x12)), undefined);
  // MP3: no AAC fields.
  const mp3 = parseAudioTag(Buffer.of(0x2f, 0xff));
  assert.equal(mp3?.codecId, 2);
  assert.equal(mp3?.stereo, true);
  assert.equal(mp3?.aac, undefined);
});
