import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { BmffError, BoxStreamSplitter, parseFragment, parseInit, readBoxes } from '@neon/media';
import { makeFmp4, split } from './helpers.js';

describe('ISO-BMFF reader on ffmpeg output', () => {
  let video: Buffer;
  let audio: Buffer;
  before(async () => {
    [video, audio] = await Promise.all([
      makeFmp4('video', { seconds: 3, gop: 30 }),
      makeFmp4('audio', { seconds: 2 }),
    ]);
  });

  it('splits a byte stream fed in odd-sized chunks into init and fragments', () => {
    const whole = split(video);
    const splitter = new BoxStreamSplitter();
    const units = [];
    for (let at = 0; at < video.length; at += 997)
      units.push(...splitter.push(video.subarray(at, at + 997)));
    const init = units.filter((u) => u.kind === 'init');
    const fragments = units.filter((u) => u.kind === 'fragment');
    assert.equal(init.length, 1);
    assert.equal(fragments.length, whole.fragments.length);
    assert.ok(fragments.length >= 10);
    for (const [i, f] of fragments.entries()) {
      assert.equal(
        f.kind === 'fragment' && f.bytes.equals(whole.fragments[i] ?? Buffer.alloc(0)),
        true,
      );
      const types = f.kind === 'fragment' ? readBoxes(f.bytes).map((b) => b.type) : [];
      assert.deepEqual(types, ['moof', 'mdat']);
    }
  });

  it('reads the video track: coded size, timescale and an avc1 codec string from avcC', () => {
    const track = parseInit(split(video).init);
    assert.equal(track.handler, 'vide');
    assert.equal(track.width, 320);
    assert.equal(track.height, 180);
    assert.ok(track.timescale > 0);
    assert.match(track.codec, /^avc1\.[0-9a-f]{6}$/);
    // libx264 ultrafast picks the Constrained Baseline or High profile; the level for 320x180 is low.
    assert.ok(['42', '4d', '64'].includes(track.codec.slice(5, 7)));
  });

  it('reads the audio track as AAC-LC with its sample rate and channels', () => {
    const track = parseInit(split(audio).init);
    assert.equal(track.handler, 'soun');
    assert.equal(track.codec, 'mp4a.40.2');
    assert.equal(track.sampleRate, 48000);
    assert.equal(track.channels, 1);
  });

  it('reads sample timing and keyframes from tfdt/trun: a keyframe every second, contiguous times', () => {
    const { init, fragments } = split(video);
    const track = parseInit(init);
    let expected = 0;
    const keyframeTimes: number[] = [];
    let samples = 0;
    for (const f of fragments) {
      const info = parseFragment(f, track);
      assert.equal(info.baseDecodeTime, expected);
      expected += info.duration;
      for (const s of info.samples) {
        if (s.sync) keyframeTimes.push(s.dts / track.timescale);
        assert.ok(s.size > 0);
      }
      samples += info.samples.length;
      // A keyframe only ever opens a fragment (+frag_keyframe).
      assert.equal(
        info.samples.slice(1).some((s) => s.sync),
        false,
      );
      assert.ok(info.duration / track.timescale <= 0.2 + 1e-9);
    }
    assert.equal(samples, 90);
    assert.deepEqual(
      keyframeTimes.map((t) => Math.round(t * 1000) / 1000),
      [0, 1, 2],
    );
  });

  it('marks every audio sample as a sync sample', () => {
    const { init, fragments } = split(audio);
    const track = parseInit(init);
    for (const f of fragments)
      assert.equal(
        parseFragment(f, track).samples.every((s) => s.sync),
        true,
      );
  });

  it('rejects boxes whose size runs past their parent or is impossible', () => {
    const { fragments } = split(video);
    const fragment = fragments[0] ?? Buffer.alloc(0);
    assert.throws(() => readBoxes(fragment.subarray(0, fragment.length - 5)), BmffError);
    const bogus = Buffer.from([0, 0, 0, 3, 0x6d, 0x6f, 0x6f, 0x66]);
    assert.throws(() => new BoxStreamSplitter().push(bogus), BmffError);
    const huge = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x6d, 0x64, 0x61, 0x74]);
    assert.throws(() => new BoxStreamSplitter(1024).push(huge), BmffError);
  });
});
