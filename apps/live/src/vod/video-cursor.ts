import { AppError } from '@neon/kit';

/**
 * Where a page of videos stopped: the last one's start to the microsecond, as
 * the repository writes it (`2026-12-06T21:30:00.123456Z`; a JavaScript Date
 * would drop the last three digits and skip or repeat videos), and its id.
 */
export interface VideoCursor {
  at: string;
  id: string;
}

const AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeVideoCursor(c: VideoCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/** The cursor a list handed out, or a 400 naming the field. */
export function decodeVideoCursor(raw: string | undefined): VideoCursor | null {
  if (raw === undefined) return null;
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<VideoCursor>;
    if (
      typeof c.at === 'string' &&
      AT.test(c.at) &&
      // A real instant (no 13th month), so the query never fails on it.
      new Date(`${c.at.slice(0, 23)}Z`).toISOString() === `${c.at.slice(0, 23)}Z` &&
      typeof c.id === 'string' &&
      ID.test(c.id)
    )
      return { at: c.at, id: c.id };
  } catch {
    // Falls through to the refusal below.
  }
  throw new AppError('LIVE_CURSOR_INVALID', 'This cursor was not handed out by this list.', {
    errors: [{ field: 'querystring.after', message: 'is not a cursor from this list' }],
  });
}
