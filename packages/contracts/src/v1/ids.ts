/**
 * UUIDv7 (RFC 9562), the id of every event envelope and of most rows: a 48-bit
 * millisecond timestamp then randomness, so ids sort by creation time and keep
 * B-tree inserts at the right edge. A counter in the random bits keeps ids from
 * one process strictly increasing within a millisecond. Web Crypto only, so the
 * browser and every server share this one generator.
 */
let lastMs = 0;
let seq = 0;
const rnd = new Uint8Array(10);
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function uuidv7(now = Date.now()): string {
  if (now <= lastMs) {
    seq = (seq + 1) & 0xfff;
    if (seq === 0) lastMs += 1;
    now = lastMs;
  } else {
    lastMs = now;
    crypto.getRandomValues(rnd.subarray(0, 2));
    seq = ((rnd[0]! << 8) | rnd[1]!) & 0x7ff;
  }
  crypto.getRandomValues(rnd);
  const b = new Uint8Array(16);
  let t = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = 0x80 | (rnd[0]! & 0x3f);
  b.set(rnd.subarray(1, 8), 9);
  let h = '';
  for (const byte of b) h += HEX[byte]!;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The creation time encoded in a UUIDv7. */
export function uuidv7Time(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}
