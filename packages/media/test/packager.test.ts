import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SaxesParser } from 'saxes';
import {
  blockingPlaylist,
  MediaRequestError,
  parseInit,
  renderMasterPlaylist,
  renderMediaPlaylist,
  renderMpd,
  type RenditionPackager,
  type RenditionInfo,
} from '@neon/media';
import { makeFmp4, packager, split, T0 } from './helpers.js';

const lines = (text: string) => text.trimEnd().split('\n');
const attr = (line: string, name: string) =>
  new RegExp(`[:,]${name}=("[^"]*"|[^,]*)`).exec(line)?.[1]?.replace(/"/g, '');

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof MediaRequestError, `not a MediaRequestError: ${String(err)}`);
    return err.code;
  }
  return 'resolved';
}

/** Resolves to true if `promise` settles within a few event-loop turns. */
async function settlesSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return settled;
}

describe('CMAF packager and LL-HLS media playlists', () => {
  let video: { init: Buffer; fragments: Buffer[] };
  let audio: { init: Buffer; fragments: Buffer[] };
  let longVideo: { init: Buffer; fragments: Buffer[] };
  before(async () => {
    const [v, a, l] = await Promise.all([
      makeFmp4('video', { seconds: 3, gop: 30 }),
      makeFmp4('audio', { seconds: 3 }),
      makeFmp4('video', { seconds: 12, gop: 30 }),
    ]);
    video = split(v);
    audio = split(a);
    longVideo = split(l);
  });

  function fed(
    p: RenditionPackager,
    media: { init: Buffer; fragments: Buffer[] },
    count = media.fragments.length,
  ) {
    p.pushInit(media.init);
    for (const f of media.fragments.slice(0, count)) p.pushFragment(f);
    return p;
  }

  it('cuts ~2 s segments on keyframes and one part per fragment, parts within the target', () => {
    const p = fed(packager(), video);
    const [first, second] = p.segments;
    assert.equal(p.segments.length, 2);
    assert.equal(first?.complete, true);
    assert.equal(first?.duration, 2);
    assert.equal(second?.complete, false);
    for (const s of p.segments) {
      assert.equal(s.parts[0]?.independent, true);
      for (const part of s.parts) assert.ok(part.duration <= 0.25);
    }
    // Parts that start on the 1 s keyframe are independent too.
    assert.equal(first?.parts.filter((x) => x.independent).length, 2);
    assert.deepEqual(first?.data, Buffer.concat(first?.parts.map((x) => x.bytes) ?? []));
  });

  it('writes the tags in order with the values LL-HLS requires', () => {
    const p = fed(packager(), video);
    const text = renderMediaPlaylist(p);
    const l = lines(text);
    assert.deepEqual(l.slice(0, 4), [
      '#EXTM3U',
      '#EXT-X-VERSION:9',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:0',
    ]);
    const control = l.find((x) => x.startsWith('#EXT-X-SERVER-CONTROL:')) ?? '';
    assert.equal(attr(control, 'CAN-BLOCK-RELOAD'), 'YES');
    assert.ok(Number(attr(control, 'PART-HOLD-BACK')) >= 3 * 0.25);
    assert.ok(Number(attr(control, 'HOLD-BACK')) >= 3 * 2);
    assert.equal(
      l.find((x) => x.startsWith('#EXT-X-PART-INF:')),
      '#EXT-X-PART-INF:PART-TARGET=0.250',
    );
    const map = l.indexOf('#EXT-X-MAP:URI="init-0.mp4"');
    const pdt = l.findIndex((x) => x.startsWith('#EXT-X-PROGRAM-DATE-TIME:'));
    const firstPart = l.findIndex((x) => x.startsWith('#EXT-X-PART:'));
    const firstInf = l.findIndex((x) => x.startsWith('#EXTINF:'));
    assert.ok(map > 0 && map < pdt && pdt < firstPart && firstPart < firstInf);
    assert.equal(l[pdt], '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z');
    assert.equal(l[firstInf], '#EXTINF:2.00000,');
    assert.equal(l[firstInf + 1], 's0.m4s');
    const parts = l.filter((x) => x.startsWith('#EXT-X-PART:'));
    assert.equal(parts.length, p.nextPart);
    assert.equal(attr(parts[0] ?? '', 'URI'), 'p0.m4s');
    assert.equal(attr(parts[0] ?? '', 'INDEPENDENT'), 'YES');
    for (const part of parts) assert.ok(Number(attr(part, 'DURATION')) <= 0.25);
    assert.equal(l.at(-1), `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p${p.nextPart}.m4s"`);
    assert.equal(text.includes('#EXT-X-ENDLIST'), false);
  });

  it('serves init, segments and parts by the names the playlist uses', () => {
    const p = fed(packager(), video);
    assert.deepEqual(p.file('init-0.mp4'), video.init);
    assert.deepEqual(p.file('p0.m4s'), video.fragments[0]);
    assert.deepEqual(p.file('s0.m4s'), p.segments[0]?.data);
    assert.equal(p.file('s1.m4s'), null, 'an open segment is not a file yet');
    assert.equal(p.file(`p${p.nextPart}.m4s`), null);
    assert.equal(p.file('../../etc/passwd'), null);
  });

  it('slides the window: old segments leave the playlist and parts stay only near the live edge', () => {
    const p = fed(packager('v', 2), longVideo);
    const complete = p.segments.filter((s) => s.complete);
    assert.ok(complete.length >= 5);
    const text = renderMediaPlaylist(p);
    const l = lines(text);
    const infs = l.filter((x) => x.startsWith('#EXTINF:'));
    assert.equal(infs.length, 2);
    const firstListed = complete.at(-2)?.msn ?? -1;
    assert.equal(l[3], `#EXT-X-MEDIA-SEQUENCE:${firstListed}`);
    // Parts are listed for the last two complete segments and the open one.
    const partUris = new Set(
      l.filter((x) => x.startsWith('#EXT-X-PART:')).map((x) => attr(x, 'URI')),
    );
    const expected = p.segments
      .filter((s) => s.msn >= (complete.at(-2)?.msn ?? 0))
      .flatMap((s) => s.parts.map((x) => `p${x.seq}.m4s`));
    assert.deepEqual([...partUris], expected);
    assert.equal(p.file('s0.m4s'), null, 'segments far behind the window are dropped from memory');
    assert.equal(p.file('p0.m4s'), null);
  });

  it('marks a new timeline with EXT-X-DISCONTINUITY and a new map', () => {
    const p = fed(packager(), video);
    p.markDiscontinuity();
    fed(p, video);
    const l = lines(renderMediaPlaylist(p));
    const disc = l.indexOf('#EXT-X-DISCONTINUITY');
    assert.ok(disc > 0);
    assert.equal(l[disc + 1], '#EXT-X-MAP:URI="init-1.mp4"');
    assert.ok(l.indexOf('#EXT-X-MAP:URI="init-0.mp4"') < disc);
    assert.ok(l.slice(disc).some((x) => x.startsWith('#EXT-X-PROGRAM-DATE-TIME:')));
    assert.deepEqual(p.file('init-1.mp4'), video.init);
  });

  it('ends with EXT-X-ENDLIST and no preload hint; the VOD form lists every segment without parts', () => {
    const p = fed(packager('v', 2), longVideo);
    p.end();
    const live = renderMediaPlaylist(p);
    assert.equal(lines(live).at(-1), '#EXT-X-ENDLIST');
    assert.equal(live.includes('PRELOAD-HINT'), false);
    const vod = renderMediaPlaylist(p, { vod: true });
    assert.ok(vod.includes('#EXT-X-PLAYLIST-TYPE:VOD'));
    assert.equal(vod.includes('#EXT-X-PART'), false);
    assert.equal(lines(vod).filter((x) => x.startsWith('#EXTINF:')).length, p.segments.length);
    assert.equal(lines(vod).at(-1), '#EXT-X-ENDLIST');
  });

  it('cuts audio on a 2 s grid, every part independent', () => {
    const p = fed(packager('audio'), audio);
    const first = p.segments[0];
    assert.ok(first?.complete);
    assert.ok(Math.abs((first?.duration ?? 0) - 2) < 0.25);
    for (const s of p.segments) for (const part of s.parts) assert.equal(part.independent, true);
    const text = renderMediaPlaylist(p);
    assert.equal(text.includes('#EXT-X-INDEPENDENT-SEGMENTS'), false);
  });
});

describe('blocking playlist reload', () => {
  let video: { init: Buffer; fragments: Buffer[] };
  before(async () => {
    video = split(await makeFmp4('video', { seconds: 3, gop: 30 }));
  });

  function live(count: number) {
    const p = packager();
    p.pushInit(video.init);
    for (const f of video.fragments.slice(0, count)) p.pushFragment(f);
    return p;
  }

  it('answers at once for a part that exists', async () => {
    const p = live(3);
    const text = await blockingPlaylist(p, { msn: 0, part: 2 });
    assert.ok(text.includes('URI="p2.m4s"'));
  });

  it('holds a request for the next part and answers the moment it is produced', async () => {
    const p = live(3);
    const pending = blockingPlaylist(p, { msn: 0, part: 3 });
    assert.equal(await settlesSoon(pending), false);
    p.pushFragment(video.fragments[3] ?? Buffer.alloc(0));
    const text = await pending;
    assert.ok(text.includes('URI="p3.m4s"'));
    assert.ok(text.includes('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p4.m4s"'));
  });

  it('treats a part index past the end of a finished segment as part 0 of the next', async () => {
    const p = live(10);
    assert.equal(p.segments[0]?.parts.length, 10);
    const pending = blockingPlaylist(p, { msn: 0, part: 10 });
    assert.equal(await settlesSoon(pending), false);
    p.pushFragment(video.fragments[10] ?? Buffer.alloc(0));
    const text = await pending;
    assert.ok(text.includes('s0.m4s'));
    assert.ok(text.includes('URI="p10.m4s"'));
  });

  it('holds a request for a whole segment until it is complete', async () => {
    const p = live(3);
    const pending = blockingPlaylist(p, { msn: 0 });
    assert.equal(await settlesSoon(pending), false);
    for (const f of video.fragments.slice(3, 11)) p.pushFragment(f);
    assert.ok((await pending).includes('#EXTINF:2.00000,\ns0.m4s'));
  });

  it('refuses with 400 a request more than two segments ahead or past the advance part limit', async () => {
    const p = live(3);
    assert.equal(await codeOf(blockingPlaylist(p, { msn: 3 })), 'LIVE_PART_TOO_FAR');
    assert.equal(await codeOf(blockingPlaylist(p, { msn: 0, part: 40 })), 'LIVE_PART_TOO_FAR');
  });

  it('refuses malformed requests with 400', async () => {
    const p = live(3);
    assert.equal(await codeOf(blockingPlaylist(p, { part: 1 })), 'LIVE_PLAYLIST_REQUEST_INVALID');
    assert.equal(await codeOf(blockingPlaylist(p, { msn: -1 })), 'LIVE_PLAYLIST_REQUEST_INVALID');
    assert.equal(
      await codeOf(blockingPlaylist(p, { msn: 0, part: 1.5 })),
      'LIVE_PLAYLIST_REQUEST_INVALID',
    );
    assert.equal(
      await codeOf(blockingPlaylist(p, { msn: 0, skip: 'NO' })),
      'LIVE_PLAYLIST_REQUEST_INVALID',
    );
    const e = new MediaRequestError('LIVE_PART_TOO_FAR', 'x');
    assert.equal(e.status, 400);
  });

  it('answers 503 when the part does not come in time', async () => {
    const p = live(3);
    assert.equal(
      await codeOf(blockingPlaylist(p, { msn: 0, part: 4 }, undefined, 30)),
      'SERVICE_UNAVAILABLE',
    );
  });

  it('releases held requests when the broadcast ends', async () => {
    const p = live(3);
    const pending = blockingPlaylist(p, { msn: 1, part: 0 });
    p.end();
    assert.ok((await pending).includes('#EXT-X-ENDLIST'));
  });

  it('answers a request past the end of an ended rendition at once with the closed playlist', async () => {
    const p = live(3);
    p.end();
    for (const q of [{ msn: 3 }, { msn: 40, part: 2 }, { msn: 0, part: 40 }]) {
      const text = await blockingPlaylist(p, q, undefined, 5000);
      assert.equal(lines(text).at(-1), '#EXT-X-ENDLIST');
      assert.ok(!text.includes('#EXT-X-PRELOAD-HINT'));
    }
    assert.equal(await codeOf(blockingPlaylist(p, { msn: -1 })), 'LIVE_PLAYLIST_REQUEST_INVALID');
  });

  it('stops waiting when the client goes away', async () => {
    const p = live(3);
    const abort = new AbortController();
    const pending = blockingPlaylist(p, { msn: 0, part: 5 }, abort.signal);
    abort.abort(new Error('client closed'));
    await assert.rejects(pending, /client closed/);
  });
});

describe('master playlist and MPD', () => {
  const video: RenditionInfo = {
    name: '720p',
    kind: 'video',
    width: 1280,
    height: 720,
    bandwidth: 3_000_000,
    averageBandwidth: 2_800_000,
    codecs: 'avc1.64001f',
    frameRate: 30,
    uri: '720p/index.m3u8',
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
    channels: 2,
    sampleRate: 48000,
  };

  it('lists each video variant with every attribute and the audio group', () => {
    const l = lines(renderMasterPlaylist([video, audio]));
    assert.equal(l[0], '#EXTM3U');
    const media = l.find((x) => x.startsWith('#EXT-X-MEDIA:')) ?? '';
    assert.equal(attr(media, 'TYPE'), 'AUDIO');
    assert.equal(attr(media, 'URI'), 'audio/index.m3u8');
    const inf = l.findIndex((x) => x.startsWith('#EXT-X-STREAM-INF:'));
    const line = l[inf] ?? '';
    assert.equal(attr(line, 'BANDWIDTH'), '3128000');
    assert.equal(attr(line, 'AVERAGE-BANDWIDTH'), '2920000');
    assert.equal(attr(line, 'RESOLUTION'), '1280x720');
    assert.equal(attr(line, 'FRAME-RATE'), '30.000');
    assert.ok(line.includes('CODECS="avc1.64001f,mp4a.40.2"'));
    assert.equal(attr(line, 'AUDIO'), 'audio');
    assert.equal(l[inf + 1], '720p/index.m3u8');
  });

  it('lists the audio playlist as the only variant for an audio-only broadcast', () => {
    const l = lines(renderMasterPlaylist([audio]));
    assert.equal(
      l.some((x) => x.startsWith('#EXT-X-MEDIA:')),
      false,
    );
    const inf = l.findIndex((x) => x.startsWith('#EXT-X-STREAM-INF:'));
    assert.ok(l[inf]?.includes('CODECS="mp4a.40.2"'));
    assert.equal(l[inf + 1], 'audio/index.m3u8');
  });

  it('writes a well-formed dynamic MPD whose timeline matches the segments', async () => {
    const media = split(await makeFmp4('video', { seconds: 5, gop: 30 }));
    const p = packager('720p');
    p.pushInit(media.init);
    for (const f of media.fragments) p.pushFragment(f);
    const track = parseInit(media.init);
    const mpd = renderMpd([{ info: video, packager: p }], {
      now: T0 + 5000,
      ended: false,
      partTargetMs: 250,
      segmentTargetMs: 2000,
    });
    assert.ok(mpd);
    const elements: { name: string; attributes: Record<string, string> }[] = [];
    const parser = new SaxesParser();
    parser.on('opentag', (tag) => elements.push({ name: tag.name, attributes: tag.attributes }));
    parser.write(mpd).close();
    const root = elements[0];
    assert.equal(root?.name, 'MPD');
    assert.equal(root?.attributes.type, 'dynamic');
    // The first media's wall clock, plus one part and a margin for the segment to complete.
    assert.equal(root?.attributes.availabilityStartTime, '2026-01-01T00:00:00.500Z');
    assert.ok(root?.attributes.minimumUpdatePeriod);
    const template = elements.find((e) => e.name === 'SegmentTemplate');
    assert.equal(template?.attributes.timescale, String(track.timescale));
    assert.equal(template?.attributes.media, '$RepresentationID$/s$Number$.m4s');
    assert.equal(template?.attributes.startNumber, '0');
    const s = elements.filter((e) => e.name === 'S');
    const complete = p.segments.filter((x) => x.complete);
    assert.equal(s.length, complete.length);
    assert.equal(s[0]?.attributes.t, '0');
    assert.deepEqual(
      s.map((x) => Number(x.attributes.d)),
      complete.map((x) => x.durationTicks),
    );
    const rep = elements.find((e) => e.name === 'Representation');
    assert.deepEqual(
      [rep?.attributes.id, rep?.attributes.width, rep?.attributes.codecs],
      ['720p', '1280', 'avc1.64001f'],
    );
  });
});
