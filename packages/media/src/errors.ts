import { AppError } from '@neon/kit';

export type MediaRequestCode =
  'LIVE_PLAYLIST_REQUEST_INVALID' | 'LIVE_PART_TOO_FAR' | 'SERVICE_UNAVAILABLE' | 'NOT_FOUND';

/**
 * A playback request the origin cannot answer as asked: a malformed or too
 * far ahead blocking reload (400), or one not satisfiable in time (503). It is
 * an AppError, so a service's problem+json handler renders it as is.
 */
export class MediaRequestError extends AppError {
  constructor(
    override readonly code: MediaRequestCode,
    detail: string,
  ) {
    super(code, detail);
    this.name = 'MediaRequestError';
  }
}
