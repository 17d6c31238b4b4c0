import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  blockingPlaylist,
  mediaPlaylistUri,
  recordedRenditions,
  renderMasterPlaylist,
  renderMediaPlaylist,
  type RenditionPackager,
  type RenditionInfo,
} from '@neon/media';
import { makeFmp4, packager, split } from './helpers.js';

// What a player reads, written out whole: a missing tag, a wrong number or a
// line out of place changes what the player does.

const lines = (text: string) => text.trimEnd().split('\n');

const video: RenditionInfo = {
  name: '720p',
  kind: 'video',
  width: 1280,
  height: 720,
  bandwidth: 3_000_000,
  averageBandwidth: 2_800_000.4,
  codecs: 'avc1.64001f',
  frameRate: 29.97,
  uri: '720p/index.m3u8',
};
const low: RenditionInfo = {
  ...video,
  name: '360p',
  width: 640,
  height: 360,
  bandwidth: 800_000,
  averageBandwidth: 700_000,
  frameRate: null,
  uri: '360p/index.m3u8',
};
const audio: RenditionInfo = {
  name: 'audio',
  kind: 'audio',
  width: 0,
  height: 0,
  bandwidth: 128_000,
  averageBandwidth: 120_000,
  codecs: 'mp4a.40.2',
  frameRate: null,
  uri: 'audio/index.m3u8',
};

describe("a recording's renditions", () => {
  it('leaves out a video rendition shorter than 98% of the longest, keeps audio and those within', () => {
    const source = { ...video, name: 'source', uri: 'source/index.m3u8' };
    assert.deepEqual(
      recordedRenditions([
        { info: source, durationSeconds: 100 },
        { info: video, durationSeconds: 98 },
        { info: low, durationSeconds: 97.9 },
        { info: audio, durationSeconds: 60 },
      ]).map((r) => r.name),
      ['source', '720p', 'audio'],
    );
    assert.deepEqual(
      recordedRenditions([
        { info: audio, durationSeconds: 3 },
        { info: low, durationSeconds: 0 },
      ]).map((r) => r.name),
      ['audio'],
    );
  });
});

describe('multivariant playlist', () => {
  it('is written out exactly: audio group, each variant with its attributes, in order', () => {
    assert.equal(
      renderMasterPlaylist([video, low, { ...audio, channels: 6 }]),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:9',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="6",URI="audio/index.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=3128000,AVERAGE-BANDWIDTH=2920000,RESOLUTION=1280x720,FRAME-RATE=29.970,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"',
        '720p/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=928000,AVERAGE-BANDWIDTH=820000,RESOLUTION=640x360,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"',
        '360p/index.m3u8',
        '',
      ].join('\n'),
    );
  });

  it('says stereo when the channel count is unknown, and version 7 for a recording', () => {
    const text = renderMasterPlaylist([video, audio], { vod: true });
    assert.equal(lines(text)[1], '#EXT-X-VERSION:7');
    assert.ok(text.includes(',CHANNELS="2",'));
  });

  it('lists video alone without an audio group when there is no audio', () => {
    assert.equal(
      renderMasterPlaylist([low]),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:9',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-STREAM-INF:BANDWIDTH=800000,AVERAGE-BANDWIDTH=700000,RESOLUTION=640x360,CODECS="avc1.64001f"',
        '360p/index.m3u8',
        '',
      ].join('\n'),
    );
  });

  it('lists the audio playlist as the only variant of an audio-only broadcast', () => {
    assert.equal(
      renderMasterPlaylist([audio]),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:9',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-STREAM-INF:BANDWIDTH=128000,AVERAGE-BANDWIDTH=120000,CODECS="mp4a.40.2"',
        'audio/index.m3u8',
        '',
      ].join('\n'),
    );
    assert.equal(
      renderMasterPlaylist([]),
      '#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-INDEPENDENT-SEGMENTS\n',
    );
  });

  it('names each media playlist after its rendition', () => {
    assert.equal(mediaPlaylistUri('720p'), '720p/index.m3u8');
  });
});

describe('media playlist', () => {
  let media: { init: Buffer; fragments: Buffer[] };
  let long: { init: Buffer; fragments: Buffer[] };
  before(async () => {
    [media, long] = (
      await Promise.all([
        makeFmp4('video', { seconds: 3, gop: 30 }),
        makeFmp4('video', { seconds: 12, gop: 30 }),
      ])
    ).map(split) as [typeof media, typeof long];
  });

  function fed(p: RenditionPackager, m = media, count = m.fragments.length): RenditionPackager {
    p.pushInit(m.init);
    for (const f of m.fragments.slice(0, count)) p.pushFragment(f);
    return p;
  }

  it('ends every line, the last included, with a newline', () => {
    const text = renderMediaPlaylist(fed(packager()));
    assert.ok(text.endsWith('\n'));
    assert.ok(!text.endsWith('\n\n'));
    assert.ok(text.includes('#EXT-X-INDEPENDENT-SEGMENTS\n'));
  });

  it('counts discontinuities that slid out of the window in EXT-X-DISCONTINUITY-SEQUENCE', () => {
    const p = packager('v', 2);
    fed(p, media);
    p.markDiscontinuity();
    fed(p, media);
    p.markDiscontinuity();
    fed(p, long);
    const l = lines(renderMediaPlaylist(p));
    const first = Number(l.find((x) => x.startsWith('#EXT-X-MEDIA-SEQUENCE:'))!.split(':')[1]);
    const before = p.segments.filter((s) => s.msn < first && s.discontinuity).length;
    assert.equal(before, 2);
    assert.ok(l.includes('#EXT-X-DISCONTINUITY-SEQUENCE:2'));
    // No discontinuity of the window's own first segment is written as a tag.
    assert.equal(l.filter((x) => x === '#EXT-X-DISCONTINUITY').length, 0);
    // Without any, the tag is absent.
    assert.ok(!renderMediaPlaylist(fed(packager())).includes('DISCONTINUITY'));
  });

  it('writes one map per timeline, not one per segment', () => {
    const p = fed(packager('v', 6), long);
    const l = lines(renderMediaPlaylist(p));
    assert.deepEqual(
      l.filter((x) => x.startsWith('#EXT-X-MAP:')),
      ['#EXT-X-MAP:URI="init-0.mp4"'],
    );
  });

  it('lists parts for the last two complete segments and the open one, nothing older', () => {
    const p = fed(packager('v', 6), long);
    const complete = p.segments.filter((s) => s.complete);
    const l = lines(renderMediaPlaylist(p));
    const listed = l.filter((x) => x.startsWith('#EXT-X-PART:')).length;
    const expected = p.segments
      .filter((s) => s.msn >= complete.at(-2)!.msn)
      .reduce((n, s) => n + s.parts.length, 0);
    assert.equal(listed, expected);
    // With one complete segment, its parts are listed from the first.
    const one = fed(packager(), media);
    const parts = lines(renderMediaPlaylist(one)).filter((x) => x.startsWith('#EXT-X-PART:'));
    assert.equal(
      parts.length,
      one.segments.reduce((n, s) => n + s.parts.length, 0),
    );
  });

  it('a recording lists complete segments only, and no part', () => {
    const p = fed(packager(), media);
    assert.equal(p.segments.at(-1)!.complete, false);
    const l = lines(renderMediaPlaylist(p, { vod: true }));
    assert.equal(
      l.filter((x) => x.startsWith('#EXTINF:')).length,
      p.segments.filter((s) => s.complete).length,
    );
    assert.equal(l.filter((x) => x.startsWith('#EXT-X-PROGRAM-DATE-TIME:')).length, 1);
    assert.deepEqual(l.slice(0, 5), [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-PLAYLIST-TYPE:VOD',
    ]);
    assert.equal(l.at(-1), '#EXT-X-ENDLIST');
  });

  it('a recording still growing is an EVENT playlist without ENDLIST, up to a given segment', () => {
    const p = fed(packager(), media);
    p.end();
    assert.ok(p.segments.filter((s) => s.complete).length >= 2);
    const l = lines(renderMediaPlaylist(p, { vod: true, open: true, throughMsn: 0 }));
    assert.equal(l[4], '#EXT-X-PLAYLIST-TYPE:EVENT');
    assert.deepEqual(
      l.filter((x) => /^s\d+\.m4s$/.test(x)),
      ['s0.m4s'],
    );
    assert.ok(!l.includes('#EXT-X-ENDLIST'));
    assert.ok(!l.some((x) => x.startsWith('#EXT-X-PRELOAD-HINT')));
  });

  it('has no preload hint before the first init segment', () => {
    const p = packager();
    const text = renderMediaPlaylist(p);
    assert.ok(
      text.startsWith(
        '#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n',
      ),
    );
    assert.ok(!text.includes('PRELOAD-HINT'));
    assert.ok(!text.includes('#EXT-X-INDEPENDENT-SEGMENTS'));
  });

  it("reports each other rendition's last part, and none for one with no part yet", () => {
    const p = fed(packager('720p'), media);
    const other = fed(packager('360p'), media, 3);
    const empty = packager('160p');
    const text = renderMediaPlaylist(p, {
      reports: [
        { uri: '../360p/index.m3u8', packager: other },
        { uri: '../160p/index.m3u8', packager: empty },
      ],
    });
    const last = other.lastPart()!;
    assert.deepEqual(
      lines(text).filter((x) => x.startsWith('#EXT-X-RENDITION-REPORT:')),
      [
        `#EXT-X-RENDITION-REPORT:URI="../360p/index.m3u8",LAST-MSN=${last.msn},LAST-PART=${last.index}`,
      ],
    );
    assert.equal(last.msn, 0);
    assert.equal(last.index, 2);
  });

  it('a blocking reload carries the rendition reports and accepts _HLS_skip=YES or v2', async () => {
    const p = fed(packager('720p'), media);
    const other = fed(packager('360p'), media, 3);
    const reports = [{ uri: '../360p/index.m3u8', packager: other }];
    for (const skip of ['YES', 'v2']) {
      const text = await blockingPlaylist(p, { msn: 0, skip }, undefined, 1000, reports);
      assert.ok(text.includes('#EXT-X-RENDITION-REPORT:URI="../360p/index.m3u8"'), skip);
    }
  });

  it('without _HLS_msn, a starting broadcast is answered once its first part exists', async () => {
    const p = packager();
    p.pushInit(media.init);
    let answered = false;
    const pending = blockingPlaylist(p, {}, undefined, 5000).then((t) => {
      answered = true;
      return t;
    });
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.equal(answered, false, 'answered before any media');
    p.pushFragment(media.fragments[0]!);
    const text = await pending;
    assert.ok(text.includes('#EXT-X-PART:'));
    // An ended broadcast with nothing in it is answered at once.
    const ended = packager();
    ended.end();
    assert.ok((await blockingPlaylist(ended, {}, undefined, 5000)).includes('#EXT-X-ENDLIST'));
  });

  it('names what was malformed', async () => {
    const p = fed(packager());
    for (const [q, word] of [
      [{ msn: -1 }, '_HLS_msn'],
      [{ msn: 0, part: -1 }, '_HLS_part'],
      [{ msn: 0, skip: 'no' }, '_HLS_skip'],
    ] as const) {
      await assert.rejects(blockingPlaylist(p, q), (err: Error) => err.message.includes(word));
    }
  });
});

describe('media playlist across timelines', () => {
  let media: { init: Buffer; fragments: Buffer[] };
  let long: { init: Buffer; fragments: Buffer[] };
  before(async () => {
    [media, long] = (
      await Promise.all([
        makeFmp4('video', { seconds: 3, gop: 30 }),
        makeFmp4('video', { seconds: 12, gop: 30 }),
      ])
    ).map(split) as [typeof media, typeof long];
  });

  it('a window starting on the first segment of a new timeline: its map, no tag, not counted', () => {
    const p = packager('v', 2);
    p.pushInit(media.init);
    for (const f of media.fragments) p.pushFragment(f);
    // A new encoder: a new init section, so a new timeline from its first segment.
    p.pushInit(long.init);
    let checked = false;
    for (const f of long.fragments) {
      p.pushFragment(f);
      const window = p.windowed();
      if (!window[0]!.discontinuity) continue;
      const l = lines(renderMediaPlaylist(p));
      assert.deepEqual(
        l.filter((x) => x.startsWith('#EXT-X-MAP:')),
        ['#EXT-X-MAP:URI="init-1.mp4"'],
      );
      assert.ok(!l.some((x) => x.includes('DISCONTINUITY')), l.join('\n'));
      checked = true;
      break;
    }
    assert.ok(checked, 'the window never started on the new timeline');
    // One segment further, the discontinuity slid out and is counted.
    for (const f of long.fragments) {
      p.pushFragment(f);
      if (!p.windowed()[0]!.discontinuity) break;
    }
    const l = lines(renderMediaPlaylist(p));
    assert.ok(l.includes('#EXT-X-DISCONTINUITY-SEQUENCE:1'), l.join('\n'));
  });

  it('marks independent parts only, each part line written out whole', () => {
    const p = packager('v', 6);
    p.pushInit(long.init);
    for (const f of long.fragments) p.pushFragment(f);
    const parts = lines(renderMediaPlaylist(p)).filter((x) => x.startsWith('#EXT-X-PART:'));
    const shape = /^#EXT-X-PART:DURATION=\d+\.\d{5},URI="[^"]+"(,INDEPENDENT=YES)?$/;
    for (const x of parts) assert.match(x, shape);
    const independent = parts.filter((x) => x.endsWith(',INDEPENDENT=YES')).length;
    assert.ok(independent > 0, 'no independent part');
    assert.ok(independent < parts.length, 'every part independent');
    // Exactly the parts that begin with a keyframe.
    const expected = p.segments
      .flatMap((s) => s.parts)
      .filter((part) => parts.some((x) => x.includes(`URI="p${part.seq}.m4s"`)))
      .filter((part) => part.independent).length;
    assert.equal(independent, expected);
  });
});
