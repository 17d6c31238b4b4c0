import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { FastifyReply } from 'fastify';
import { contentTypeOf, isSafeName } from './media-types.js';

/**
 * Resolves `parts` under `root`, or null when any part is unsafe or the result
 * would leave the folder.
 */
export function safeJoin(root: string, parts: string[]): string | null {
  if (parts.length === 0 || !parts.every(isSafeName)) return null;
  const base = resolve(root);
  const full = resolve(base, ...parts);
  return full.startsWith(base + sep) ? full : null;
}

/** Streams a file with its media type; false when there is no such file. */
export async function sendFile(
  reply: FastifyReply,
  path: string,
  cacheControl: string,
): Promise<boolean> {
  const type = contentTypeOf(path);
  if (!type) return false;
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) return false;
  void reply
    .headers({
      'content-type': type,
      'content-length': String(info.size),
      'cache-control': cacheControl,
      'access-control-allow-origin': '*',
      'last-modified': info.mtime.toUTCString(),
    })
    .send(createReadStream(path));
  return true;
}
