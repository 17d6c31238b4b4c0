import type { LoaderContext } from 'hls.js';
import { describe, expect, it } from 'vitest';
import { hlsSettings } from './hls-config';

describe('the player’s hls.js settings', () => {
  it('caps the rung to the player size at no more than twice its CSS pixels', () => {
    const settings = hlsSettings(true, { width: 1280, devicePixelRatio: 3 });
    expect(settings.capLevelToPlayerSize).toBe(true);
    expect(settings.maxDevicePixelRatio).toBe(2);
  });

  it('starts a phone-sized player on the lowest rung and a large one on the estimate', () => {
    expect(hlsSettings(true, { width: 358, devicePixelRatio: 3 }).startLevel).toBe(0);
    expect(hlsSettings(false, { width: 320, devicePixelRatio: 2 }).startLevel).toBe(0);
    expect(hlsSettings(true, { width: 1280, devicePixelRatio: 1 }).startLevel).toBe(-1);
    // Not laid out yet: nothing to go by, so the estimate decides.
    expect(hlsSettings(true, { width: 0, devicePixelRatio: 2 }).startLevel).toBe(-1);
  });

  it('buffers a VOD at most a minute ahead', () => {
    const vod = hlsSettings(false, { width: 1280, devicePixelRatio: 1 });
    expect(vod.maxMaxBufferLength).toBe(60);
    expect(vod.maxBufferLength).toBeLessThanOrEqual(60);
    expect(vod.lowLatencyMode).toBe(false);
    expect(hlsSettings(true, { width: 1280, devicePixelRatio: 1 }).lowLatencyMode).toBe(true);
  });

  it('adds the player’s id to live playlist requests only, so viewers behind one address count apart', () => {
    const opened: string[] = [];
    const xhr = {
      open: (_m: string, url: string) => opened.push(url),
    } as unknown as XMLHttpRequest;
    const live = hlsSettings(true, { width: 1280, devicePixelRatio: 1 }, { v: 'p-1' });
    const context = {} as LoaderContext;
    void live.xhrSetup?.(
      xhr,
      'http://neon.test/hls/ada/720p/index.m3u8?_HLS_msn=4&_HLS_part=1',
      context,
    );
    void live.xhrSetup?.(xhr, 'http://neon.test/hls/ada/720p/seg-4.m4s', context);
    expect(opened).toEqual([
      'http://neon.test/hls/ada/720p/index.m3u8?_HLS_msn=4&_HLS_part=1&v=p-1',
    ]);
    expect(
      hlsSettings(false, { width: 1280, devicePixelRatio: 1 }, { v: 'p-1' }).xhrSetup,
    ).toBeUndefined();
  });

  it('marks the streamer’s own preview on its playlist requests, so it is not counted as a viewer', () => {
    const opened: string[] = [];
    const xhr = {
      open: (_m: string, url: string) => opened.push(url),
    } as unknown as XMLHttpRequest;
    const preview = hlsSettings(true, { width: 640, devicePixelRatio: 1 }, { preview: '1' });
    void preview.xhrSetup?.(xhr, 'http://neon.test/hls/ada/master.m3u8', {} as LoaderContext);
    expect(opened).toEqual(['http://neon.test/hls/ada/master.m3u8?preview=1']);
  });
});
