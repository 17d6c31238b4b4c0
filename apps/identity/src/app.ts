import { join } from 'node:path';
import { ACCESS_TOKEN_TTL_SECONDS, RegisterRequest } from '@neon/contracts';
import Value from 'typebox/value';
import { migrate, type Db } from '@neon/db';
import { AppError, loadSecretFile, type Logger } from '@neon/kit';
import { serviceServer, type Platform, type Service, type ServiceModule } from '@neon/platform';
import { adminRoutes } from './admin/admin.routes.js';
import { AdminService } from './admin/admin.service.js';
import { writeAudit } from './admin/audit.repository.js';
import { authRoutes } from './auth/auth.routes.js';
import { AuthService } from './auth/auth.service.js';
import { cookiePolicy } from './auth/refresh-cookie.js';
import { identitySpec, type IdentityConfig } from './config.js';
import { migrations } from './db/migrations/index.js';
import { mfaRoutes } from './mfa/mfa.routes.js';
import { MfaService } from './mfa/mfa.service.js';
import { SecretBox } from './mfa/second-factor.js';
import { sessionsRoutes } from './sessions/sessions.routes.js';
import { SessionsService } from './sessions/sessions.service.js';
import { dummyHash } from './domain/password-hash.js';
import { loadCommonPasswords } from './domain/password-policy.js';
import { jwksRoutes } from './keys/jwks.routes.js';
import { KeyRing } from './keys/key-ring.js';
import { TokenIssuer } from './keys/token-issuer.js';
import { OAuthTokenSigner } from './oauth/oauth-token.js';
import { oauthRoutes } from './oauth/oauth.routes.js';
import { OAuthService } from './oauth/oauth.service.js';
import { AccountEmailService } from './email/account-email.service.js';
import { accountEmailRoutes } from './email/account-email.routes.js';
import { mailAdminRoutes } from './mail/mail.routes.js';
import { MailService } from './mail/mail.service.js';
import { logTransport, smtpTransport } from './mail/mail-transport.js';
import { MailWorker } from './mail/mail.worker.js';
import { OutboxRelay } from './outbox/outbox.js';
import * as users from './users/user.repository.js';
import { usersRoutes } from './users/users.routes.js';
import { UsersService } from './users/users.service.js';

export const SCHEMA = 'identity';
export { identitySpec, type IdentityConfig } from './config.js';

/** What authenticator apps show next to the code: Neon, and the host when it is not local. */
function mfaIssuer(publicUrl: string): string {
  const host = new URL(publicUrl).hostname;
  return host === 'localhost' || host === '127.0.0.1' ? 'Neon' : `Neon (${host})`;
}

/** Verifiers accept this much clock skew; a retired key stays published that much longer. */
const KEY_LEEWAY_MS = 60_000;

interface Core {
  ring: KeyRing;
  issuer: TokenIssuer;
  auth: AuthService;
  mfa: MfaService;
}

async function buildCore(
  db: Db,
  logger: Logger,
  config: IdentityConfig,
  publicUrl: string,
  onEvents: () => void,
  publishNow: () => Promise<void>,
  keySecret: string | undefined = config.SIGNING_KEY_SECRET,
  onMail: () => void = () => undefined,
): Promise<Core> {
  await migrate(db, SCHEMA, migrations);
  const accessTtl = Math.min(config.ACCESS_TOKEN_TTL_SECONDS, ACCESS_TOKEN_TTL_SECONDS);
  const ring = new KeyRing({
    db,
    logger,
    secret: keySecret,
    rules: {
      rotationMs: config.KEY_ROTATION_SECONDS * 1000,
      tokenTtlMs: accessTtl * 1000,
      leewayMs: KEY_LEEWAY_MS,
    },
  });
  // The gateway compares `iss` with PUBLIC_URL without its trailing slash.
  const issuer = new TokenIssuer(ring, publicUrl.replace(/\/+$/, ''), accessTtl);
  const mfa = new MfaService({
    db,
    logger,
    box: new SecretBox(keySecret),
    issuer: mfaIssuer(publicUrl),
    onMail,
  });
  const auth = new AuthService({
    mfa,
    db,
    logger,
    issuer,
    commonPasswords: loadCommonPasswords(),
    dummyHash: await dummyHash(),
    settings: {
      refreshAbsoluteSeconds: config.REFRESH_ABSOLUTE_SECONDS,
      refreshIdleSeconds: config.REFRESH_IDLE_SECONDS,
      refreshGraceSeconds: config.REFRESH_GRACE_SECONDS,
    },
    onEvents,
    publishNow,
    onMail,
  });
  return { ring, issuer, auth, mfa };
}

/**
 * SIGNING_KEY_SECRET, else (in the embedded shape) a key file under DATA_DIR
 * made on first start, as live does for stream keys: signing keys are never
 * kept in clear just because nobody set a secret. Replicas of the
 * distributed shape cannot share a local file, so they need the variable.
 */
function signingKeySecret(
  platform: Platform,
  config: IdentityConfig,
  logger: Logger,
): string | undefined {
  if (config.SIGNING_KEY_SECRET) return config.SIGNING_KEY_SECRET;
  if (platform.shape === 'embedded')
    return loadSecretFile(undefined, join(platform.dataDir, 'identity', 'signing-key.secret'));
  logger.warn('SIGNING_KEY_SECRET is not set: token signing keys are stored in clear');
  return undefined;
}

/** Builds the identity service (accounts, tokens, signing keys and JWKS, profiles, roles) from its dependencies; never listens. */
export async function buildApp(platform: Platform, config: IdentityConfig): Promise<Service> {
  const { logger, server } = await serviceServer(platform, { name: 'identity' });
  const relay = new OutboxRelay(platform.db, platform.bus, logger);
  relay.registerMetrics(server.metrics);
  const keySecret = signingKeySecret(platform, config, logger);
  // Created below, once the mail composers exist; sign-up may only wake it after that.
  let mailWorker: MailWorker | null = null;
  const { ring, issuer, auth, mfa } = await buildCore(
    platform.db,
    logger,
    config,
    platform.publicUrl,
    () => relay.kick(),
    () => relay.flush(),
    keySecret,
    () => mailWorker?.kick(),
  );
  const accountEmail = new AccountEmailService({
    db: platform.db,
    logger,
    publicUrl: platform.publicUrl,
    checkPassword: (password, account) => auth.checkPassword(password, account),
    verifyCurrentPassword: (user, password) => auth.verifyCurrentPassword(user, password),
    kickMail: () => mailWorker?.kick(),
    publishNow: () => relay.flush(),
  });
  const mailBox = new SecretBox(keySecret, 'queued mails at rest');
  const from = config.MAIL_FROM ?? `Neon <no-reply@${new URL(platform.publicUrl).hostname}>`;
  if (!config.SMTP_URL && platform.shape !== 'embedded')
    logger.warn('SMTP_URL is not set: mails are written to the log, not sent');
  mailWorker = new MailWorker({
    db: platform.db,
    logger,
    transport: config.SMTP_URL ? smtpTransport(config.SMTP_URL, from) : logTransport(logger),
    box: mailBox,
    composers: accountEmail.composers(),
    retrySeconds: config.MAIL_RETRY_SECONDS,
    maxAttempts: config.MAIL_MAX_ATTEMPTS,
  });
  // Keys exist before the first request: the gateway fetches JWKS at start.
  await ring.maintain();
  ring.start();
  relay.start();
  mailWorker.start();

  await server.register(jwksRoutes(ring));
  const cookies = cookiePolicy(platform.publicUrl);
  await server.register(authRoutes({ auth, issuer, cookies }));
  await server.register(mfaRoutes({ mfa, auth, cookies }));
  await server.register(
    sessionsRoutes(
      new SessionsService({ db: platform.db, logger, publishNow: () => relay.flush() }),
    ),
  );
  await server.register(usersRoutes(new UsersService(platform.db, () => relay.kick())));
  await server.register(accountEmailRoutes(accountEmail));
  const admin = new AdminService(platform.db, logger, () => relay.flush());
  await server.register(adminRoutes(admin));
  await server.register(
    mailAdminRoutes(new MailService(platform.db, mailBox), (actor) => admin.assertAdmin(actor)),
  );
  const oauth = new OAuthService({
    db: platform.db,
    logger,
    signer: new OAuthTokenSigner(
      ring,
      platform.publicUrl.replace(/\/+$/, ''),
      issuer.accessTtlSeconds,
    ),
    settings: { refreshTtlSeconds: config.OAUTH_REFRESH_SECONDS },
    publishNow: () => relay.flush(),
  });
  await server.register(oauthRoutes({ oauth, ring, publicUrl: platform.publicUrl }));

  return {
    name: 'identity',
    server,
    async close() {
      await ring.stop();
      await relay.stop();
      await mailWorker?.stop();
    },
  };
}

export const identityService: ServiceModule<typeof identitySpec> = {
  name: 'identity',
  spec: identitySpec,
  listen: (c) => ({ host: c.IDENTITY_HOST, port: c.IDENTITY_PORT }),
  build: buildApp,
};

/**
 * What the command line does on the identity schema: it opens the database
 * itself (no server, no bus; the events it causes wait in the outbox for the
 * next start of the service).
 */
export interface AdminCommands {
  createAdmin(input: {
    username: string;
    email: string;
    password: string;
  }): Promise<{ id: string; username: string }>;
  grantAdmin(username: string): Promise<{ id: string; username: string; changed: boolean }>;
}

export async function adminCommands(
  db: Db,
  logger: Logger,
  config: IdentityConfig,
  publicUrl: string,
): Promise<AdminCommands> {
  // No bus here: what the commands cause waits in the outbox for the service.
  const { auth } = await buildCore(
    db,
    logger,
    config,
    publicUrl,
    () => undefined,
    () => Promise.resolve(),
  );
  const admin = new AdminService(db, logger);
  return {
    async createAdmin(input) {
      if (!Value.Check(RegisterRequest, input)) {
        const errors = Value.Errors(RegisterRequest, input).map((e) => ({
          field: e.instancePath.replace(/^\//, '') || 'input',
          message: e.message,
        }));
        throw new AppError(
          'VALIDATION_FAILED',
          errors.map((e) => `${e.field} ${e.message}`).join('; '),
          { errors },
        );
      }
      const user = await auth.createUser(input, true);
      await writeAudit(db, {
        actor: null,
        action: 'admin.created',
        target: { id: user.id, username: user.username },
      });
      return { id: user.id, username: user.username };
    },
    async grantAdmin(username) {
      const user = await users.findByUsername(db, username);
      if (!user) throw new Error(`no user is named ${username}`);
      if (user.is_admin) return { id: user.id, username: user.username, changed: false };
      await admin.setAdmin(null, user.id, true);
      return { id: user.id, username: user.username, changed: true };
    },
  };
}
