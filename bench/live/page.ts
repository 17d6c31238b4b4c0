/**
 * The player page's script, as plain JavaScript for the browser: hls.js on a
 * video element; every presented frame's strip of 16 black/white blocks is
 * read back into the frame number the source drew.
 */
export const playerScript = `
window.benchStart = (url, config) => {
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  document.body.appendChild(video);
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const hls = new Hls(config);
  const started = Date.now();
  const state = { firstFrameMs: null, stalls: 0, samples: [], hlsLatency: [], levels: {}, errors: [] };
  hls.on(Hls.Events.ERROR, (_e, d) => { if (state.errors.length < 20) state.errors.push(d.type + ':' + d.details + (d.fatal ? ' (fatal)' : '')); });
  window.benchState = state;
  video.addEventListener('waiting', () => { if (state.firstFrameMs !== null) state.stalls++; });
  hls.on(Hls.Events.MANIFEST_PARSED, () => { video.play().catch(() => undefined); });
  hls.loadSource(url);
  hls.attachMedia(video);
  const onFrame = () => {
    const w = video.videoWidth, h = video.videoHeight;
    if (w > 0 && h > 0) {
      const now = Date.now();
      const stripH = Math.max(2, Math.round((40 * h) / 720));
      if (canvas.width !== w || canvas.height !== stripH) { canvas.width = w; canvas.height = stripH; }
      ctx.drawImage(video, 0, 0, w, stripH, 0, 0, w, stripH);
      const row = ctx.getImageData(0, Math.floor(stripH / 2), w, 1).data;
      let n = 0;
      for (let i = 0; i < 16; i++) {
        const x = Math.floor(((i + 0.5) * w) / 16) * 4;
        const lum = 0.299 * row[x] + 0.587 * row[x + 1] + 0.114 * row[x + 2];
        if (lum > 128) n |= 1 << i;
      }
      if (state.firstFrameMs === null) state.firstFrameMs = now - started;
      state.samples.push([now, n]);
      if (typeof hls.latency === 'number' && Number.isFinite(hls.latency)) state.hlsLatency.push(hls.latency);
      state.levels[h] = (state.levels[h] || 0) + 1;
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
};
window.benchDrain = () => {
  const s = window.benchState;
  const out = { firstFrameMs: s.firstFrameMs, stalls: s.stalls, samples: s.samples, hlsLatency: s.hlsLatency, levels: s.levels, errors: s.errors };
  s.samples = [];
  s.hlsLatency = [];
  return out;
};
`;
