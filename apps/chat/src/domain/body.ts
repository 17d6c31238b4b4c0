import { CHAT_MAX_BODY, type ErrorCode } from '@neon/contracts';

// C0 and C1 controls, DEL, and the invisible bidi overrides that let a message
// reorder the text around it; tabs and newlines become spaces first.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const WHITESPACE_CONTROL = /[\t\n\r\v\f]/g;

export type BodyResult = { ok: true; body: string } | { ok: false; code: ErrorCode };

/**
 * Cleans a message body: control characters removed, trimmed, 1–500
 * characters (code points, so an emoji counts once). The result is plain
 * text; nothing in it is ever interpreted as markup.
 */
export function cleanBody(raw: unknown): BodyResult {
  if (typeof raw !== 'string') return { ok: false, code: 'CHAT_INVALID_MESSAGE' };
  // Checked before cleaning too, so a huge body costs no regex work.
  if (raw.length > CHAT_MAX_BODY * 4) return { ok: false, code: 'CHAT_BODY_TOO_LONG' };
  const body = raw.replace(WHITESPACE_CONTROL, ' ').replace(CONTROL, '').trim();
  if (body.length === 0) return { ok: false, code: 'CHAT_BODY_EMPTY' };
  let count = 0;
  for (const _ of body)
    if (++count > CHAT_MAX_BODY) return { ok: false, code: 'CHAT_BODY_TOO_LONG' };
  return { ok: true, body };
}
