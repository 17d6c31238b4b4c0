import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/** Refresh tokens: 256 random bits, base64url (43 characters). */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database keeps: the SHA-256 of the token, never the token. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function looksLikeRefreshToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

function boxKey(token: string): Buffer {
  return Buffer.from(hkdfSync('sha256', token, '', 'neon refresh successor', 32));
}

/**
 * Seals a successor token under a key derived from its predecessor, so that
 * only someone holding the predecessor (a second tab sending the same cookie)
 * can recover it during the grace window; the database alone reveals nothing.
 */
export function sealSuccessor(predecessor: string, successor: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', boxKey(predecessor), iv);
  const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function openSuccessor(predecessor: string, box: string): string | null {
  try {
    const raw = Buffer.from(box, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', boxKey(predecessor), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
