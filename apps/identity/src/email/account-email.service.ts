import { createHash, randomBytes } from 'node:crypto';
import {
  EMAIL_VERIFICATION_TTL_SECONDS,
  PASSWORD_RESET_TTL_SECONDS,
  type VerifyEmailResponse,
} from '@neon/contracts';
import type { Db, Queryable } from '@neon/db';
import { AppError, uuidv7, type Logger } from '@neon/kit';
import { enqueueSessionsEnded, uniqueViolation } from '../auth/auth.service.js';
import {
  assertMayTry,
  clearFailures,
  recordFailure,
  type LoginLimitRules,
} from '../auth/login-limit.js';
import * as refresh from '../auth/refresh-token.repository.js';
import { hashPassword } from '../domain/password-hash.js';
import { enqueueMail, type MailKind } from '../mail/mail.repository.js';
import {
  accountLockedMail,
  changeEmailMail,
  emailChangeNoticeMail,
  maskAddress,
  passwordChangedMail,
  newDeviceMail,
  passwordResetMail,
  verifyEmailMail,
} from '../mail/mail-templates.js';
import type { Composer } from '../mail/mail.worker.js';
import * as users from '../users/user.repository.js';
import type { UserRow } from '../users/user.repository.js';
import * as tokens from './email-token.repository.js';
import type { EmailTokenPurpose } from './email-token.repository.js';

/**
 * Mails asked for one address (reset) or one account (verification resend):
 * the login rules' shape (a 429 with Retry-After, the same for every
 * address), tighter: three at once, then slowed, and the fifth within 15
 * minutes locks the address out of more mails for 15 minutes.
 */
export const MAIL_REQUEST_LIMIT: LoginLimitRules = {
  windowMs: 15 * 60_000,
  slowAfter: 3,
  lockAfter: 5,
  lockMs: 15 * 60_000,
};

/** 256 random bits: a link cannot be guessed, so SHA-256 is enough at rest. */
const newLinkToken = (): string => randomBytes(32).toString('base64url');
const LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;
export const hashLinkToken = (token: string): string =>
  createHash('sha256').update(`neon-email-link:${token}`).digest('base64url');

export interface AccountEmailDeps {
  db: Db;
  logger: Logger;
  /** The web app's address, where links in mails lead. */
  publicUrl: string;
  /** The password policy of sign-up and password change. */
  checkPassword(password: string, account: { username: string; email: string }): void;
  /** Throws unless this is the user's password (counted with failed sign-ins). */
  verifyCurrentPassword(user: UserRow, password: string): Promise<void>;
  /** Wakes the mail worker after a commit that queued a mail. */
  kickMail: () => void;
  /** Publishes the outbox and resolves once it is on the bus (ended sessions). */
  publishNow: () => Promise<void>;
  limit?: LoginLimitRules;
}

function emailTaken(): AppError {
  return new AppError('AUTH_EMAIL_TAKEN', 'An account uses this email already.');
}

function invalidLink(): AppError {
  return new AppError(
    'AUTH_EMAIL_TOKEN_INVALID',
    'This link is not valid any more: it was used, it expired, or it is incomplete. Ask for a new one.',
  );
}

/**
 * Password reset and email verification by mailed link. The request paths
 * only queue: whether an address has an account is found out by the mail
 * worker (the composers below), so a reset request answers alike, in about
 * the same time, for every address.
 */
export class AccountEmailService {
  constructor(private readonly deps: AccountEmailDeps) {}

  private get base(): string {
    return this.deps.publicUrl.replace(/\/+$/, '');
  }

  /** Counts a mail asked for `key`; throws AUTH_EMAIL_THROTTLED past the limit. */
  private async limit(q: Queryable, key: string): Promise<void> {
    const rules = this.deps.limit ?? MAIL_REQUEST_LIMIT;
    try {
      await assertMayTry(q, key, rules);
    } catch (err) {
      if (!(err instanceof AppError) || !err.headers) throw err;
      throw new AppError(
        'AUTH_EMAIL_THROTTLED',
        'Several mails were asked for already; wait before asking again.',
        { headers: err.headers },
      );
    }
    await recordFailure(q, key, rules);
  }

  /** Queues a reset mail for the address; the worker drops it when no account has it. */
  async requestReset(email: string): Promise<void> {
    const address = email.trim().toLowerCase();
    await this.deps.db.tx(async (q) => {
      await this.limit(q, `reset:${address}`);
      await enqueueMail(q, {
        id: uuidv7(),
        kind: 'password-reset',
        recipient: address,
        userId: null,
      });
    });
    this.deps.kickMail();
  }

  /** The live token behind a link, with its account; null when the link is no good. */
  private async usable(
    q: Queryable,
    token: string,
    purpose: EmailTokenPurpose,
  ): Promise<{ row: tokens.EmailTokenRow; user: UserRow } | null> {
    if (!LINK_TOKEN.test(token)) return null;
    const row = await tokens.findForUpdate(q, hashLinkToken(token), purpose);
    if (!row || row.used_at || row.expires_at.getTime() <= Date.now()) return null;
    const user = await users.findById(q, row.user_id);
    if (!user) return null;
    // A change link holds the address to move to (its account's latest request: older ones
    // were used up); any other link is for the address it was sent to, and an account that
    // changed it since is not reached.
    if (purpose === 'change-email') return user.suspended_at ? null : { row, user };
    return user.email === row.email ? { row, user } : null;
  }

  /**
   * Sets the new password and ends every session of the account (the gateway
   * refuses their access tokens once the event is out, which happens before
   * this resolves), then mails a notice. A weak password is refused before
   * the link is used up.
   */
  async confirmReset(token: string, password: string): Promise<void> {
    const { db } = this.deps;
    const found = await this.usable(db, token, 'password-reset');
    if (!found) throw invalidLink();
    if (found.user.suspended_at)
      throw new AppError('AUTH_ACCOUNT_SUSPENDED', 'This account is suspended.');
    this.deps.checkPassword(password, found.user);
    const hash = await hashPassword(password);
    const outcome = await db.tx(async (q) => {
      // Checked again under the lock: of two uses of one link, one wins.
      const live = await this.usable(q, token, 'password-reset');
      if (!live) return null;
      const userId = live.user.id;
      await tokens.useAll(q, userId, 'password-reset');
      await users.setPasswordHash(q, userId, hash);
      // The owner is back in: failed logins counted against the account no longer matter.
      await clearFailures(q, userId);
      const ended = await refresh.endUserFamilies(q, userId, 'password-reset');
      // `password-change` is the event's reason for every new password.
      if (ended.length > 0) await enqueueSessionsEnded(q, userId, ended, 'password-change');
      await enqueueMail(q, {
        id: uuidv7(),
        kind: 'password-changed',
        recipient: live.user.email,
        userId,
      });
      return { userId, ended: ended.length };
    });
    if (!outcome) throw invalidLink();
    if (outcome.ended > 0) {
      try {
        await this.deps.publishNow();
      } catch (err) {
        this.deps.logger.error({ err }, 'ended sessions not announced yet; the outbox will retry');
      }
    }
    this.deps.kickMail();
    this.deps.logger.info(outcome, 'password reset by mailed link; sessions revoked');
  }

  /**
   * A verification link confirms the account's address; a change link (sent
   * to the new address) makes it the account's address, confirmed.
   */
  async verifyEmail(token: string): Promise<VerifyEmailResponse> {
    let email: string | null;
    try {
      email = await this.deps.db.tx(async (q) => {
        const change = await this.usable(q, token, 'change-email');
        if (change) {
          await tokens.useAll(q, change.user.id, 'change-email');
          await tokens.useAll(q, change.user.id, 'verify-email');
          await users.setEmail(q, change.user.id, change.row.email);
          return change.row.email;
        }
        const live = await this.usable(q, token, 'verify-email');
        if (!live) return null;
        await tokens.useAll(q, live.user.id, 'verify-email');
        return (await users.setEmailVerified(q, live.user.id, live.row.email))
          ? live.row.email
          : null;
      });
    } catch (err) {
      // Another account took the address between the request and the click.
      if (uniqueViolation(err) === 'email') throw emailTaken();
      throw err;
    }
    if (email === null) throw invalidLink();
    return { email, emailVerified: true };
  }

  /**
   * Asks to move the account to `newEmail`: a link to the new address (the
   * change happens when it is followed) and a notice to the current one. An
   * earlier request's link stops working.
   */
  async requestChange(userId: string, newEmail: string, password: string): Promise<void> {
    const address = newEmail.trim().toLowerCase();
    const user = await users.findById(this.deps.db, userId);
    if (!user) throw new AppError('USER_NOT_FOUND', 'This account no longer exists.');
    await this.deps.verifyCurrentPassword(user, password);
    if (address === user.email)
      throw new AppError('AUTH_EMAIL_UNCHANGED', 'This is your address already.');
    await this.deps.db.tx(async (q) => {
      const other = await users.findByEmail(q, address);
      if (other) throw emailTaken();
      await this.limit(q, `change:${user.id}`);
      await tokens.useAll(q, user.id, 'change-email');
      await enqueueMail(q, { id: uuidv7(), kind: 'change-email', recipient: address, userId });
      await enqueueMail(q, {
        id: uuidv7(),
        kind: 'email-change-notice',
        recipient: user.email,
        userId,
        detail: { newAddress: maskAddress(address) },
      });
    });
    this.deps.kickMail();
  }

  /** Another verification mail for the caller's address. */
  async resendVerification(userId: string): Promise<void> {
    await this.deps.db.tx(async (q) => {
      const user = await users.findById(q, userId);
      if (!user) throw new AppError('USER_NOT_FOUND', 'This account no longer exists.');
      if (user.email_verified_at)
        throw new AppError('AUTH_EMAIL_ALREADY_VERIFIED', 'Your address is verified already.');
      await this.limit(q, `verify:${user.id}`);
      await enqueueMail(q, { id: uuidv7(), kind: 'verify-email', recipient: user.email, userId });
    });
    this.deps.kickMail();
  }

  /** `email`: the address the link is for (the account's own, unless it is a change). */
  private async newToken(
    q: Queryable,
    user: UserRow,
    purpose: EmailTokenPurpose,
    ttlSeconds: number,
    email = user.email,
  ): Promise<string> {
    // Expired links are of no use to anyone: dropped now and then.
    if (Math.random() < 0.02) await tokens.forgetOld(q);
    const token = newLinkToken();
    await tokens.insertToken(q, {
      id: uuidv7(),
      userId: user.id,
      purpose,
      hash: hashLinkToken(token),
      email,
      expiresAt: new Date(Date.now() + ttlSeconds * 1000),
    });
    return token;
  }

  /** How the worker writes each kind of mail; null drops the mail. */
  composers(): Record<MailKind, Composer> {
    return {
      'password-reset': async (q, row) => {
        const user = await users.findByEmail(q, row.recipient);
        if (!user || user.suspended_at) return null;
        const token = await this.newToken(q, user, 'password-reset', PASSWORD_RESET_TTL_SECONDS);
        return { userId: user.id, content: passwordResetMail(this.base, user.username, token) };
      },
      'verify-email': async (q, row) => {
        const user = await ownerOf(q, row);
        // Verified meanwhile, or the address changed: this mail is not due any more.
        if (!user || user.email !== row.recipient || user.email_verified_at) return null;
        const token = await this.newToken(q, user, 'verify-email', EMAIL_VERIFICATION_TTL_SECONDS);
        return { userId: user.id, content: verifyEmailMail(this.base, user.username, token) };
      },
      'password-changed': async (q, row) => {
        const user = await ownerOf(q, row);
        if (!user) return null;
        return { userId: user.id, content: passwordChangedMail(this.base, user.username) };
      },
      'change-email': async (q, row) => {
        const user = await ownerOf(q, row);
        // Changed meanwhile (to this address or another request's): not due any more.
        if (!user || user.email === row.recipient) return null;
        const token = await this.newToken(
          q,
          user,
          'change-email',
          EMAIL_VERIFICATION_TTL_SECONDS,
          row.recipient,
        );
        return { userId: user.id, content: changeEmailMail(this.base, user.username, token) };
      },
      'email-change-notice': async (q, row) => {
        const user = await ownerOf(q, row);
        if (!user || !row.detail?.newAddress) return null;
        return {
          userId: user.id,
          content: emailChangeNoticeMail(this.base, user.username, row.detail.newAddress),
        };
      },
      'account-locked': async (q, row) => {
        const user = await ownerOf(q, row);
        if (!user || !row.detail?.at) return null;
        return {
          userId: user.id,
          content: accountLockedMail(this.base, user.username, row.detail.at, row.detail.lockedBy),
        };
      },
      'new-device': async (q, row) => {
        const user = await ownerOf(q, row);
        const { device, at } = row.detail ?? {};
        if (!user || !device || !at) return null;
        return { userId: user.id, content: newDeviceMail(this.base, user.username, device, at) };
      },
    };
  }
}

/** The account a queued mail is about, if it still exists. */
function ownerOf(q: Queryable, row: { user_id: string | null }): Promise<UserRow | null> {
  return row.user_id ? users.findById(q, row.user_id) : Promise.resolve(null);
}
