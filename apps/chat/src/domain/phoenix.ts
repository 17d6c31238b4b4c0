/**
 * Phoenix Channels V2 JSON serializer: every frame is a JSON array
 * `[join_ref, ref, topic, event, payload]`. Pure: text in, values out.
 */
export interface PhoenixFrame {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: Record<string, unknown>;
}

export type ParseResult =
  | { ok: true; frame: PhoenixFrame }
  /** What could be recovered, so the error reply still reaches the right push. */
  | { ok: false; joinRef: string | null; ref: string | null; topic: string };

const refOf = (v: unknown): string | null =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;

export function parseFrame(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, joinRef: null, ref: null, topic: 'phoenix' };
  }
  if (!Array.isArray(value)) return { ok: false, joinRef: null, ref: null, topic: 'phoenix' };
  const [joinRef, ref, topic, event, payload] = value as unknown[];
  const recovered = {
    joinRef: refOf(joinRef),
    ref: refOf(ref),
    topic: typeof topic === 'string' ? topic : 'phoenix',
  };
  if (
    value.length !== 5 ||
    typeof topic !== 'string' ||
    typeof event !== 'string' ||
    typeof payload !== 'object' ||
    payload === null ||
    Array.isArray(payload)
  ) {
    return { ok: false, ...recovered };
  }
  return {
    ok: true,
    frame: { ...recovered, topic, event, payload: payload as Record<string, unknown> },
  };
}

export function encodeFrame(
  joinRef: string | null,
  ref: string | null,
  topic: string,
  event: string,
  payload: unknown,
): string {
  return JSON.stringify([joinRef, ref, topic, event, payload]);
}

export function encodeReply(
  joinRef: string | null,
  ref: string | null,
  topic: string,
  status: 'ok' | 'error',
  response: unknown,
): string {
  return encodeFrame(joinRef, ref, topic, 'phx_reply', { status, response });
}

/**
 * An unmasked, unfragmented WebSocket text frame (RFC 6455 §5.2) holding
 * `payload`. Server frames are never masked, so one encoding serves every
 * socket a broadcast goes to.
 */
export function wsTextFrame(payload: Buffer): Buffer {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.allocUnsafe(2);
    header[1] = len;
  } else if (len < 65536) {
    header = Buffer.allocUnsafe(4);
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.allocUnsafe(10);
    header[1] = 127;
    header.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    header.writeUInt32BE(len >>> 0, 6);
  }
  header[0] = 0x81;
  return Buffer.concat([header, payload]);
}
