import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/** `live_` + 32 random bytes (256 bits) in base64url: recognisable in a leaked config, unguessable. */
const PREFIX = 'live_';
const KEY_SHAPE = /^live_[A-Za-z0-9_-]{43}$/;

export function generateStreamKey(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/** Whether a publish name could be a key at all; anything else is refused before any lookup. */
export function looksLikeStreamKey(value: string): boolean {
  return KEY_SHAPE.test(value);
}

export function hashStreamKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Seals keys at rest with AES-256-GCM so the owner can read theirs back while
 * a database dump alone reveals nothing usable.
 */
export class KeySealer {
  private readonly key: Buffer;
  constructor(secret: string | Buffer) {
    this.key = createHash('sha256').update(secret).digest();
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** Null when the value was sealed with another secret (the key must then be regenerated). */
  open(sealed: string): string | null {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(body, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      return null;
    }
  }
}
