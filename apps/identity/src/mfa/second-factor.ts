import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30 s. */
const PERIOD = 30;
/** A code from the step before or after the current one still counts (clock drift). */
const TOLERANCE_SECONDS = PERIOD;

export const newTotpSecret = (): string => generateSecret();

export function otpauthUri(secret: string, account: string, issuer: string): string {
  return generateURI({ issuer, label: account, secret });
}

/** The otpauth URI as an SVG QR code in a data URL, for an <img>. */
export async function qrDataUrl(uri: string): Promise<string> {
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

export const TOTP_CODE = /^\d{6}$/;

/**
 * The time step a code matched, or null. A step at or before `afterStep`
 * (the last one accepted) is refused: each code works once.
 */
export async function matchTotp(
  secret: string,
  code: string,
  afterStep: number | null,
  epochSeconds = Math.floor(Date.now() / 1000),
): Promise<number | null> {
  if (!TOTP_CODE.test(code)) return null;
  const result = await verify({
    secret,
    token: code,
    epoch: epochSeconds,
    epochTolerance: TOLERANCE_SECONDS,
    ...(afterStep === null ? {} : { afterTimeStep: afterStep }),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
/** `xxxx-xxxx-xxxx-xxxx` from a 31-letter alphabet: about 79 bits each. */
export const RECOVERY_CODE = /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/;

export function newRecoveryCode(): string {
  let bare = '';
  while (bare.length < 16) {
    for (const b of randomBytes(32)) {
      // Rejection sampling: no letter more likely than another.
      if (b < 248 && bare.length < 16) bare += RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length];
    }
  }
  return bare.match(/.{4}/g)!.join('-');
}

/** As typed: case, spaces and a missing dash do not matter. */
export function normaliseRecoveryCode(input: string): string | null {
  const bare = input.toLowerCase().replace(/[\s-]/g, '');
  if (!/^[a-z0-9]{16}$/.test(bare)) return null;
  return bare.match(/.{4}/g)!.join('-');
}

/** Recovery codes carry ~79 bits: a plain SHA-256 keeps them unguessable at rest. */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(`neon-recovery:${code}`).digest('base64url');
}

/**
 * TOTP secrets at rest: AES-256-GCM under a key derived from
 * SIGNING_KEY_SECRET (another HKDF label than the signing keys), the user id
 * as associated data. Without a secret they are stored as `plain.<secret>`.
 */
export class SecretBox {
  private readonly key: Buffer | null;
  /** `purpose`: another HKDF label gives another key (queued mails use their own). */
  constructor(secret: string | undefined, purpose = 'totp secrets at rest') {
    this.key = secret
      ? Buffer.from(hkdfSync('sha256', secret, 'neon-identity', purpose, 32))
      : null;
  }

  seal(userId: string, secret: string): string {
    if (!this.key) return `plain.${secret}`;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(userId));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(userId: string, box: string): string {
    if (box.startsWith('plain.')) return box.slice(6);
    if (!this.key || !box.startsWith('v1.')) throw new Error('sealed value cannot be opened');
    const raw = Buffer.from(box.slice(3), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(userId));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}
