import type { HlsConfig } from 'hls.js';

/** The player's size in CSS pixels and the screen's pixel ratio, as the page lays it out. */
export interface Screen {
  width: number;
  devicePixelRatio: number;
}

/**
 * Above this many device pixels across the player starts at hls.js's bandwidth estimate;
 * at or below it (a phone, a dashboard preview) it starts on the lowest rung, so the first
 * frame comes fast on a mobile link and the bandwidth estimate climbs from there.
 */
const SMALL_PLAYER_DEVICE_WIDTH = 854;

/**
 * The hls.js settings for one player. Rungs are capped to the player's size in device
 * pixels (a 3x phone gets 2x: the extra detail is invisible at that size and costs
 * the most data), and a VOD buffers at most a minute ahead: a viewer who leaves
 * after ten seconds should not have paid for the whole video.
 */
export function hlsSettings(
  live: boolean,
  screen: Screen,
  counted?: PlaylistQuery,
): Partial<HlsConfig> {
  const deviceWidth = screen.width * Math.min(screen.devicePixelRatio || 1, 2);
  return {
    // Live playlists say who is asking: a player's id, so the viewer count tells apart two
    // players behind one address with the same browser (a household, the same machine), or
    // that this is the streamer's own preview, which is not counted at all.
    ...(live && counted
      ? {
          xhrSetup: (xhr: XMLHttpRequest, url: string) => {
            if (/\.m3u8(\?|$)/.test(url)) xhr.open('GET', withQuery(url, counted), true);
          },
        }
      : {}),
    lowLatencyMode: live,
    // Catch-up: play slightly faster until back at the live edge after a stall.
    maxLiveSyncPlaybackRate: live ? 1.5 : 1,
    backBufferLength: live ? 30 : 90,
    enableWorker: true,
    capLevelToPlayerSize: true,
    maxDevicePixelRatio: 2,
    startLevel: deviceWidth > 0 && deviceWidth <= SMALL_PLAYER_DEVICE_WIDTH ? 0 : -1,
    maxBufferLength: 30,
    maxMaxBufferLength: 60,
  };
}

/** What a live player adds to its playlist requests for the viewer count. */
export type PlaylistQuery = { v: string } | { preview: '1' };

function withQuery(url: string, query: PlaylistQuery): string {
  const u = new URL(url, location.href);
  for (const [name, value] of Object.entries(query)) u.searchParams.set(name, value);
  return u.href;
}
