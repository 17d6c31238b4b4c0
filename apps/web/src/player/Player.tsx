import { useCallback, useEffect, useRef, useState } from 'react';
import type Hls from 'hls.js';
import { clock } from '../format';
import { hlsSettings } from './hls-config';
import { QualityMenu } from './QualityMenu';
import { loadVolume, saveVolume, type QualityLevel } from './quality';

export interface PlayerProps {
  src: string;
  live: boolean;
  /** A fatal playback failure (e.g. the live stream ended): the page decides what to show. */
  onFatal?: (reason: string) => void;
  /** A live stream's playlist was closed (ENDLIST): its publisher stopped. */
  onEnded?: () => void;
  /** Smaller chrome, muted start (dashboard preview). */
  preview?: boolean;
}

/** Restarts of a failed live player with no frame arriving in between, before it gives up. */
const MAX_LIVE_RESTARTS = 6;

/**
 * A live start with no frame in this long is stuck without an error hls.js would report (seen
 * in Chromium: the playlists reload, no picture comes, even with fragments of one track
 * loaded): the player starts over, on a fresh video element, as after a fatal error.
 */
const STUCK_START_MS = 15_000;

const icons = {
  play: 'M8 5v14l11-7z',
  pause: 'M6 5h4v14H6zm8 0h4v14h-4z',
  volume: 'M3 9v6h4l5 5V4L7 9zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4z',
  muted:
    'M3 9v6h4l5 5V4L7 9zm13.6 3 2.7-2.7-1.4-1.4-2.7 2.7-2.7-2.7-1.4 1.4 2.7 2.7-2.7 2.7 1.4 1.4 2.7-2.7 2.7 2.7 1.4-1.4z',
  full: 'M5 5h5v2H7v3H5zm9 0h5v5h-2V7h-3zM5 14h2v3h3v2H5zm12 3v-3h2v5h-5v-2z',
};

function Icon({ d }: { d: string }) {
  return (
    <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
      <path d={d} fill="currentColor" />
    </svg>
  );
}

/**
 * The video player: hls.js (low-latency mode with catch-up) where Media
 * Source Extensions exist, the browser's own HLS otherwise (iOS Safari).
 */
export default function Player({ src, live, onFatal, onEnded, preview = false }: PlayerProps) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  const hlsRef = useRef<Hls | null>(null);
  // One id per player on the page: the viewer count counts players, not addresses.
  const [playerId] = useState(() => crypto.randomUUID());
  const onFatalRef = useRef(onFatal);
  onFatalRef.current = onFatal;
  const onEndedRef = useRef(onEnded);
  onEndedRef.current = onEnded;

  const [levels, setLevels] = useState<QualityLevel[]>([]);
  const [selected, setSelected] = useState(-1);
  const [playing, setPlaying] = useState<number | null>(null);
  const [latency, setLatency] = useState<number | null>(null);
  const [paused, setPaused] = useState(true);
  const [waiting, setWaiting] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [needsUnmute, setNeedsUnmute] = useState(false);
  const [volume, setVolume] = useState(() => (preview ? { volume: 0, muted: true } : loadVolume()));
  const [time, setTime] = useState({ current: 0, duration: 0 });
  // A live picture that stalls after it has played, or a playlist being fetched again after a
  // network error: said as "Reconnecting…" rather than an endless spinner.
  const [retrying, setRetrying] = useState(false);
  const [stalled, setStalled] = useState(false);
  const hasPlayed = useRef(false);
  // A live player that failed starts over with a fresh hls.js while the page still shows the
  // channel live (a network that came back, an origin that restarted), backing off; these count
  // the restarts since a fragment last arrived.
  const [attempt, setAttempt] = useState(0);
  const failedRestarts = useRef(0);

  // Attach the source: hls.js is fetched only when a page actually plays something.
  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;
    let cancelled = false;
    let mediaRetries = 0;
    let networkRetries = 0;
    let restart: ReturnType<typeof setTimeout> | undefined;
    let stuck: ReturnType<typeof setTimeout> | undefined;
    setError(null);
    setLevels([]);
    setSelected(-1);

    // A frame to show is the only proof of a start: fragments can load for one track while
    // the other never comes, and a paused (autoplay-refused) player still gets its frame.
    const started = () => {
      clearTimeout(stuck);
      failedRestarts.current = 0;
    };
    video.addEventListener('loadeddata', started);

    const fail = (reason: string) => {
      setError(reason);
      onFatalRef.current?.(reason);
    };

    void import('hls.js').then(({ default: HlsCtor }) => {
      if (cancelled) return;
      if (!HlsCtor.isSupported()) {
        if (video.canPlayType('application/vnd.apple.mpegurl')) {
          video.src = src;
          void start(video);
        } else {
          fail('This browser cannot play HLS video.');
        }
        return;
      }
      const hls = new HlsCtor(
        hlsSettings(
          live,
          {
            width: video.getBoundingClientRect().width,
            devicePixelRatio: window.devicePixelRatio,
          },
          preview ? { preview: '1' } : { v: playerId },
        ),
      );
      hlsRef.current = hls;
      hls.on(HlsCtor.Events.MANIFEST_PARSED, (_e, data) => {
        setLevels(
          data.levels.map((l, index) => ({
            index,
            height: l.height,
            width: l.width,
            bitrate: l.bitrate,
            name: l.name,
          })),
        );
        void start(video);
      });
      hls.on(HlsCtor.Events.LEVEL_SWITCHED, (_e, data) => setPlaying(data.level));
      // The server closes the playlists as soon as a broadcast ends: said at the next reload,
      // seconds before the buffered tail would play out and long before the page's next poll.
      hls.on(HlsCtor.Events.LEVEL_UPDATED, (_e, data) => {
        if (live && !data.details.live) onEndedRef.current?.();
      });
      hls.on(HlsCtor.Events.FRAG_LOADED, () => {
        networkRetries = 0;
        setRetrying(false);
      });
      hls.on(HlsCtor.Events.ERROR, (_e, data) => {
        if (!data.fatal) return;
        if (data.type === HlsCtor.ErrorTypes.MEDIA_ERROR && mediaRetries < 3) {
          mediaRetries += 1;
          hls.recoverMediaError();
        } else if (data.type === HlsCtor.ErrorTypes.NETWORK_ERROR && networkRetries < 3) {
          networkRetries += 1;
          setRetrying(true);
          setTimeout(() => {
            if (cancelled || hlsRef.current !== hls) return;
            // Without a manifest there is nothing to resume: it is asked for again.
            if (hls.levels.length > 0) hls.startLoad();
            else hls.loadSource(src);
          }, 1000 * networkRetries);
        } else {
          startOver();
        }
      });
      const startOver = () => {
        clearTimeout(stuck);
        hls.destroy();
        hlsRef.current = null;
        if (live && failedRestarts.current < MAX_LIVE_RESTARTS) {
          // The page asks whether the broadcast goes on (it unmounts the player if not).
          onFatalRef.current?.('The stream stopped.');
          setRetrying(true);
          const delay = Math.min(1000 * 2 ** failedRestarts.current, 10_000);
          failedRestarts.current += 1;
          restart = setTimeout(() => setAttempt((n) => n + 1), delay);
        } else {
          fail(live ? 'The stream stopped.' : 'This video could not be played.');
        }
      };
      if (live)
        stuck = setTimeout(() => {
          if (cancelled || hlsRef.current !== hls) return;
          if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) startOver();
        }, STUCK_START_MS);
      hls.loadSource(src);
      hls.attachMedia(video);
    });

    return () => {
      cancelled = true;
      video.removeEventListener('loadeddata', started);
      clearTimeout(restart);
      clearTimeout(stuck);
      hlsRef.current?.destroy();
      hlsRef.current = null;
      video.removeAttribute('src');
      video.load();
    };
  }, [src, live, attempt]);

  async function start(video: HTMLVideoElement) {
    try {
      await video.play();
    } catch {
      // Autoplay with sound is often refused: start muted and offer to unmute.
      if (!video.muted) {
        video.muted = true;
        setNeedsUnmute(true);
        await video.play().catch(() => undefined);
      }
    }
  }

  // Volume: remembered across visits (but a forced autoplay mute is not a user choice).
  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;
    video.volume = volume.volume;
    video.muted = volume.muted || (needsUnmute && !preview);
    if (!preview) saveVolume(volume);
  }, [volume, needsUnmute, preview, attempt]);

  // A live stall longer than a moment, after playback had started, is a reconnection.
  useEffect(() => {
    if (!live || !waiting || !hasPlayed.current) {
      setStalled(false);
      return;
    }
    const t = setTimeout(() => setStalled(true), 3000);
    return () => clearTimeout(t);
  }, [live, waiting]);

  // Live latency readout: hls.js's own estimate, or the programme date for native playback.
  useEffect(() => {
    if (!live) return;
    const t = setInterval(() => {
      const hls = hlsRef.current;
      const video = videoRef.current;
      if (hls && Number.isFinite(hls.latency) && hls.latency > 0) {
        setLatency(hls.latency);
      } else if (video && 'getStartDate' in video) {
        const start = (video as HTMLVideoElement & { getStartDate(): Date }).getStartDate();
        const at = start.getTime();
        if (Number.isFinite(at) && at > 0) setLatency((Date.now() - at) / 1000 - video.currentTime);
      }
    }, 500);
    return () => clearInterval(t);
  }, [live]);

  const selectLevel = useCallback((index: number) => {
    const hls = hlsRef.current;
    if (!hls) return;
    // currentLevel switches now (flushing the buffer); -1 hands control back to ABR.
    hls.currentLevel = index;
    setSelected(index);
  }, []);

  function togglePlay() {
    const video = videoRef.current;
    if (!video) return;
    if (video.paused) {
      if (live && hlsRef.current?.liveSyncPosition)
        video.currentTime = hlsRef.current.liveSyncPosition;
      void video.play();
    } else video.pause();
  }

  function toggleMute() {
    if (needsUnmute) {
      setNeedsUnmute(false);
      setVolume((v) => ({ volume: v.volume || 0.8, muted: false }));
      return;
    }
    setVolume((v) => ({ ...v, muted: !v.muted }));
  }

  function goLive() {
    const hls = hlsRef.current;
    const video = videoRef.current;
    if (hls?.liveSyncPosition && video) video.currentTime = hls.liveSyncPosition;
  }

  function fullscreen() {
    const box = boxRef.current;
    if (!box) return;
    if (document.fullscreenElement) void document.exitFullscreen();
    else void box.requestFullscreen?.().catch(() => undefined);
  }

  function onKey(e: React.KeyboardEvent) {
    if ((e.target as HTMLElement).closest('.quality, input')) return;
    if (e.key === ' ' || e.key === 'k') {
      e.preventDefault();
      togglePlay();
    } else if (e.key === 'm') toggleMute();
    else if (e.key === 'f') fullscreen();
  }

  const muted = volume.muted || needsUnmute;
  const behind = latency !== null && latency > 6;
  return (
    <div
      className={`player${preview ? ' preview' : ''}`}
      ref={boxRef}
      onKeyDown={onKey}
      data-testid="player"
      // How many times this player started over: a stuck start says so in a browser test's report.
      data-attempt={attempt}
      tabIndex={0}
      role="region"
      aria-label={
        live
          ? 'Live video player (space: play/pause, m: mute, f: fullscreen)'
          : 'Video player (space: play/pause, m: mute, f: fullscreen)'
      }
    >
      <video
        // A restart gets a fresh element: one whose media never attached stays that way.
        key={attempt}
        ref={videoRef}
        playsInline
        onClick={togglePlay}
        onPlay={() => setPaused(false)}
        onPause={() => setPaused(true)}
        onWaiting={() => setWaiting(true)}
        onPlaying={() => {
          hasPlayed.current = true;
          setWaiting(false);
        }}
        onEnded={() => {
          if (live) onEndedRef.current?.();
        }}
        onTimeUpdate={(e) =>
          setTime({ current: e.currentTarget.currentTime, duration: e.currentTarget.duration })
        }
      />
      {waiting && !error && !(live && (stalled || retrying)) && (
        <span className="spinner over" role="status" aria-label="Buffering" />
      )}
      {live && !error && (stalled || retrying) && (
        <div className="player-status" role="status">
          <span className="spinner" aria-hidden="true" />
          Reconnecting…
        </div>
      )}
      {error && (
        <div className="player-error" role="alert">
          <p>{error}</p>
          <button
            type="button"
            className="btn"
            onClick={() => {
              failedRestarts.current = 0;
              setAttempt((n) => n + 1);
            }}
          >
            Try again
          </button>
        </div>
      )}
      {needsUnmute && !preview && (
        <button type="button" className="unmute" onClick={toggleMute}>
          <Icon d={icons.muted} /> Click to unmute
        </button>
      )}
      <div className="controls">
        {!live && (
          <input
            className="seek"
            type="range"
            min={0}
            max={Number.isFinite(time.duration) ? time.duration : 0}
            // An arrow key moves a second; the time is read out as a clock, not a number.
            step={1}
            value={time.current}
            aria-label="Seek"
            aria-valuetext={`${clock(time.current)} of ${Number.isFinite(time.duration) ? clock(time.duration) : 'unknown'}`}
            onChange={(e) => {
              const video = videoRef.current;
              if (video) video.currentTime = Number(e.target.value);
            }}
          />
        )}
        <div className="controls-row">
          <button
            type="button"
            className="ctl"
            onClick={togglePlay}
            aria-label={paused ? 'Play' : 'Pause'}
          >
            <Icon d={paused ? icons.play : icons.pause} />
          </button>
          <button
            type="button"
            className="ctl"
            onClick={toggleMute}
            aria-label={muted ? 'Unmute' : 'Mute'}
          >
            <Icon d={muted ? icons.muted : icons.volume} />
          </button>
          <input
            className="volume"
            type="range"
            min={0}
            max={1}
            step={0.05}
            value={muted ? 0 : volume.volume}
            aria-label="Volume"
            onChange={(e) => {
              setNeedsUnmute(false);
              const v = Number(e.target.value);
              setVolume({ volume: v, muted: v === 0 });
            }}
          />
          {live ? (
            <>
              <button
                type="button"
                className={`ctl text live-pill${behind ? ' behind' : ''}`}
                onClick={goLive}
                title="Jump to the live edge"
              >
                LIVE
              </button>
              <span
                className="latency"
                data-testid="latency"
                // A number that changes by itself, read when asked for (aria-live off).
                role="timer"
                aria-label="Latency to live"
              >
                {latency === null ? '' : `${latency.toFixed(1)} s`}
              </span>
            </>
          ) : (
            <span className="time">
              {clock(time.current)} /{' '}
              {Number.isFinite(time.duration) ? clock(time.duration) : '--:--'}
            </span>
          )}
          <span className="spacer" />
          <QualityMenu
            levels={levels}
            selected={selected}
            playing={playing}
            onSelect={selectLevel}
          />
          <button type="button" className="ctl" onClick={fullscreen} aria-label="Fullscreen">
            <Icon d={icons.full} />
          </button>
        </div>
      </div>
    </div>
  );
}
