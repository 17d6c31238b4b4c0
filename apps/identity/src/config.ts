import { env, type ConfigOf } from '@neon/kit';
import Type from 'typebox';

const DAY = 24 * 60 * 60;

export const identitySpec = {
  IDENTITY_HOST: env.string('127.0.0.1'),
  IDENTITY_PORT: env.port(8101),
  /**
   * Encrypts signing keys at rest (AES-256-GCM, key derived with HKDF). Any
   * high-entropy string of 32+ characters; unset, the embedded shape keeps a
   * random one in a key file under DATA_DIR, and replicas of the distributed
   * shape store keys in clear.
   */
  SIGNING_KEY_SECRET: Type.Optional(
    Type.String({ minLength: 32, description: 'a secret of at least 32 characters' }),
  ),
  /** How long a signing key signs before the next one takes over (default 30 days). */
  KEY_ROTATION_SECONDS: env.int(30 * DAY, 1, 365 * DAY),
  /** Access-token lifetime; at most 15 minutes (the gateway refuses longer ones). */
  ACCESS_TOKEN_TTL_SECONDS: env.int(15 * 60, 1, 15 * 60),
  /** A refresh family dies this long after its login, whatever its use. */
  REFRESH_ABSOLUTE_SECONDS: env.int(30 * DAY, 60, 365 * DAY),
  /** A refresh token unused this long dies. */
  REFRESH_IDLE_SECONDS: env.int(14 * DAY, 60, 365 * DAY),
  /** Window in which a just-rotated refresh token yields the same successor (two tabs). */
  REFRESH_GRACE_SECONDS: env.int(10, 0, 120),
  /** An OAuth refresh token unused this long dies; each use issues a new one (default 30 days). */
  OAUTH_REFRESH_SECONDS: env.int(30 * DAY, 60, 365 * DAY),
  /**
   * Where mail goes: `smtp://user:pass@host:587` (STARTTLS when offered) or
   * `smtps://…:465`. Unset, mails are written to the log and listed for
   * admins at `/admin/v1/mail` instead of being sent.
   */
  SMTP_URL: Type.Optional(
    Type.String({ pattern: '^smtps?://[^\\s]+$', description: 'an smtp:// or smtps:// URL' }),
  ),
  /** The From of every mail, `Name <address>`; by default no-reply at PUBLIC_URL's host. */
  MAIL_FROM: env.optionalString(),
  /** The first retry of a mail the server did not take waits this long; each next one twice as long. */
  MAIL_RETRY_SECONDS: env.int(30, 1, 3600),
  /** A mail not taken after this many tries is marked failed (and logged). */
  MAIL_MAX_ATTEMPTS: env.int(8, 1, 50),
};

export type IdentityConfig = ConfigOf<typeof identitySpec>;
