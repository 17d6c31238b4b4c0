import { extname } from 'node:path';

const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.mp4': 'video/mp4',
  '.m4s': 'video/iso.segment',
  '.m4v': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
};

export function contentTypeOf(file: string): string | null {
  return TYPES[extname(file).toLowerCase()] ?? null;
}

/** One path component a player may name: no separators, no dot-dot, nothing hidden. */
export const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.includes('..');
}

export const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
export const CACHE_PLAYLIST = 'public, max-age=1';
