import { AppError } from '@neon/kit';
import type { Cursor } from './channel.repository.js';

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/** The cursor a list handed out, or a 400 naming the field. */
export function decodeCursor(raw: string | undefined): Cursor | null {
  if (raw === undefined || raw === '') return null;
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      typeof c.at === 'string' &&
      c.at.length <= 64 &&
      /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)$/.test(c.at) &&
      typeof c.id === 'string' &&
      c.id.length <= 64 &&
      (c.live === undefined || c.live === 0 || c.live === 1)
    )
      return { at: c.at, id: c.id, ...(c.live !== undefined ? { live: c.live } : {}) };
  } catch {
    // Falls through to the refusal below.
  }
  throw new AppError('CHANNELS_CURSOR_INVALID', 'This cursor was not handed out by this list.', {
    errors: [{ field: 'querystring.cursor', message: 'is not a cursor from this list' }],
  });
}
