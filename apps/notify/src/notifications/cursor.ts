import { AppError } from '@neon/kit';

/** A notification id, as handed out by a list or a stream. */
export const NOTIFICATION_ID = /^[1-9][0-9]{0,17}$/;

export function decodeCursor(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return null;
  if (NOTIFICATION_ID.test(raw)) return raw;
  throw new AppError('NOTIFY_CURSOR_INVALID', 'This cursor was not handed out by this list.', {
    errors: [{ field: 'querystring.cursor', message: 'is not a cursor from this list' }],
  });
}
