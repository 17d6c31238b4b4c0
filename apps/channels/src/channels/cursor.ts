import { AppError } from '@neon/kit';
import type { Cursor } from './channel.repository.js';

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(?:Z|[+-](\d{2})(?::?(\d{2}))?)$/;

/** A time PostgreSQL takes as timestamptz: a forged cursor must get a 400, not reach the database. */
function isTimestamp(text: string): boolean {
  const m = TIMESTAMP.exec(text);
  if (!m) return false;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = m
    .slice(1, 7)
    .map(Number);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return (
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= days &&
    hour < 24 &&
    minute < 60 &&
    second < 60 &&
    Number(m[8] ?? 0) <= 15 &&
    Number(m[9] ?? 0) < 60
  );
}

/** The cursor a list handed out, or a 400 naming the field. */
export function decodeCursor(raw: string | undefined, field = 'querystring.cursor'): Cursor | null {
  if (raw === undefined || raw === '') return null;
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      typeof c.at === 'string' &&
      c.at.length <= 64 &&
      isTimestamp(c.at) &&
      typeof c.id === 'string' &&
      c.id.length <= 64 &&
      (c.live === undefined || c.live === 0 || c.live === 1) &&
      (c.v === undefined || (Number.isSafeInteger(c.v) && c.v >= 0))
    )
      return {
        at: c.at,
        id: c.id,
        ...(c.live !== undefined ? { live: c.live } : {}),
        ...(c.v !== undefined ? { v: c.v } : {}),
      };
  } catch {
    // Falls through to the refusal below.
  }
  throw new AppError('CHANNELS_CURSOR_INVALID', 'This cursor was not handed out by this list.', {
    errors: [{ field, message: 'is not a cursor from this list' }],
  });
}
