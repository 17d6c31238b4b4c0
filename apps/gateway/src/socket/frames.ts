/** Opcode of a WebSocket close frame (RFC 6455 §5.5.1). */
export const CLOSE_OPCODE = 0x8;

/**
 * Follows the frame boundaries (RFC 6455 §5.2) of one direction of a relayed
 * WebSocket byte stream without buffering it: the relay forwards bytes as they
 * come and may only put a frame of its own between two frames, never inside one.
 */
export class FrameBoundaries {
  private readonly header = Buffer.alloc(14);
  private headerLength = 0;
  private payloadLeft = 0;

  /** Called with each frame's opcode once its header is complete. */
  constructor(private readonly onHeader: (opcode: number) => void = () => undefined) {}

  /** True between frames: nothing of a frame has been seen without its end. */
  get atBoundary(): boolean {
    return this.headerLength === 0 && this.payloadLeft === 0;
  }

  /**
   * Reads `chunk` and returns how many of its bytes were read: all of them,
   * or with `untilBoundary`, only those up to the first frame boundary (0 when
   * already at one).
   */
  consume(chunk: Uint8Array, untilBoundary = false): number {
    let i = 0;
    while (i < chunk.length) {
      if (untilBoundary && this.atBoundary) return i;
      if (this.payloadLeft > 0) {
        const n = Math.min(this.payloadLeft, chunk.length - i);
        this.payloadLeft -= n;
        i += n;
        continue;
      }
      this.header[this.headerLength++] = chunk[i++]!;
      if (this.headerLength < 2 || this.headerLength < headerSize(this.header)) continue;
      this.payloadLeft = payloadLength(this.header);
      this.headerLength = 0;
      this.onHeader(this.header[0]! & 0x0f);
    }
    return i;
  }
}

/** The header's full size, known once its first two bytes are. */
function headerSize(h: Buffer): number {
  const len7 = h[1]! & 0x7f;
  const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  const mask = h[1]! & 0x80 ? 4 : 0;
  return 2 + extended + mask;
}

function payloadLength(h: Buffer): number {
  const len7 = h[1]! & 0x7f;
  if (len7 === 126) return h.readUInt16BE(2);
  if (len7 === 127) return Number(h.readBigUInt64BE(2));
  return len7;
}

/** An unmasked close frame (what a server sends) with `code` and a short reason. */
export function closeFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8').subarray(0, 123);
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x80 | CLOSE_OPCODE;
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}
