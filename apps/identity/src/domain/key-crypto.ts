import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Derives the AES-256 key that wraps signing keys from SIGNING_KEY_SECRET. */
export function wrappingKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'neon-identity', 'signing keys at rest', 32));
}

/** AES-256-GCM with the kid as associated data, so a blob cannot be moved to another key row. */
export function encryptPrivateKey(key: Buffer, kid: string, pem: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(kid));
  const body = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
  return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

export function decryptPrivateKey(key: Buffer, kid: string, blob: string): string {
  if (!blob.startsWith('v1.')) throw new Error(`signing key ${kid} has an unknown format`);
  const raw = Buffer.from(blob.slice(3), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(kid));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}
