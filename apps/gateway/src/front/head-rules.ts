import type { ErrorCode } from '@neon/contracts';

/**
 * The most header fields a request may carry. node keeps 2,000 and drops the
 * rest without a word; browsers send about 20. A request with more is
 * refused with 431, never cut.
 */
export const MAX_HEADERS = 100;

/**
 * Fields a request may carry once. node keeps the first of most of them and
 * drops the others (and joins two Origins into one value), so a second one
 * is a request two readers could take for two different ones (RFC 9112 §3.2
 * wants a 400 for two Hosts).
 */
const SINGLE = new Set([
  'host',
  'authorization',
  'proxy-authorization',
  'content-type',
  'content-length',
  'origin',
]);

/** Why a head node parsed is refused, or null. */
export function headProblem(
  rawHeaders: readonly string[],
): { code: ErrorCode; detail: string } | null {
  if (rawHeaders.length > MAX_HEADERS * 2)
    return {
      code: 'HEADERS_TOO_LARGE',
      detail: `A request may carry at most ${MAX_HEADERS} header fields.`,
    };
  let seen: string[] | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!SINGLE.has(name)) continue;
    if (seen?.includes(name)) return { code: 'BAD_REQUEST', detail: `Two ${name} header fields.` };
    (seen ??= []).push(name);
  }
  return null;
}
