import { randomFillSync } from 'node:crypto';

/**
 * UUIDv7 (RFC 9562): a 48-bit millisecond timestamp then randomness, so ids
 * sort by creation time and keep B-tree inserts at the right edge. A counter
 * in the random bits keeps ids from one process strictly increasing within a
 * millisecond.
 */
let lastMs = 0;
let seq = 0;
const rnd = Buffer.alloc(10);

export function uuidv7(now = Date.now()): string {
  if (now <= lastMs) {
    seq = (seq + 1) & 0xfff;
    if (seq === 0) lastMs += 1;
    now = lastMs;
  } else {
    lastMs = now;
    randomFillSync(rnd, 0, 2);
    seq = rnd.readUInt16BE(0) & 0x7ff;
  }
  randomFillSync(rnd);
  const b = Buffer.alloc(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = 0x80 | (rnd[0]! & 0x3f);
  rnd.copy(b, 9, 1, 8);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The creation time encoded in a UUIDv7. */
export function uuidv7Time(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}
