import type { AmfObject, AmfValue } from './amf0.js';
import type { StreamMetadata } from './session-types.js';

/** A plain AMF object (not an ECMA array, strict array or date). */
export function isAmfObject(v: AmfValue): v is AmfObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype;
}

function num(v: AmfValue): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** onMetaData as encoders send it, reduced to the fields the ingest uses (OBS says `fps`, ffmpeg `framerate`). */
export function normaliseMetadata(p: AmfObject): StreamMetadata {
  const out: StreamMetadata = { properties: p };
  const set = <K extends keyof StreamMetadata>(k: K, v: StreamMetadata[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set('width', num(p.width));
  set('height', num(p.height));
  set('framerate', num(p.framerate) ?? num(p.fps));
  const vc = p.videocodecid;
  set('videocodecid', typeof vc === 'number' || typeof vc === 'string' ? vc : undefined);
  const ac = p.audiocodecid;
  set('audiocodecid', typeof ac === 'number' || typeof ac === 'string' ? ac : undefined);
  set('videodatarate', num(p.videodatarate));
  set('audiodatarate', num(p.audiodatarate));
  set('audiosamplerate', num(p.audiosamplerate));
  set('audiosamplesize', num(p.audiosamplesize));
  set('audiochannels', num(p.audiochannels));
  set('stereo', typeof p.stereo === 'boolean' ? p.stereo : undefined);
  set('duration', num(p.duration));
  set('encoder', typeof p.encoder === 'string' ? p.encoder : undefined);
  return out;
}
