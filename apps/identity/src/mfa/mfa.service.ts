import { createHash, randomBytes } from 'node:crypto';
import {
  MFA_CHALLENGE_TTL_SECONDS,
  RECOVERY_CODE_COUNT,
  STEP_UP_SECONDS,
  type MfaChallenge,
  type MfaStatus,
  type TotpEnrolment,
} from '@neon/contracts';
import type { Db } from '@neon/db';
import { AppError, isAppError, uuidv7, type Logger } from '@neon/kit';
import {
  assertMayTry,
  clearFailures,
  DEFAULT_LOGIN_LIMIT,
  recordFailure,
  type LoginLimitRules,
} from '../auth/login-limit.js';
import { enqueueLockMail } from '../mail/mail.repository.js';
import * as users from '../users/user.repository.js';
import * as repo from './mfa.repository.js';
import {
  hashRecoveryCode,
  matchTotp,
  newRecoveryCode,
  newTotpSecret,
  normaliseRecoveryCode,
  otpauthUri,
  qrDataUrl,
  type SecretBox,
} from './second-factor.js';

/** Wrong codes a single sign-in challenge takes before it dies. */
const CHALLENGE_ATTEMPTS = 5;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface MfaDeps {
  db: Db;
  logger: Logger;
  box: SecretBox;
  /** The name authenticator apps show next to the code. */
  issuer: string;
  /** The same rules as failed passwords, counted apart (`mfa:<user id>`). */
  limit?: LoginLimitRules;
  /** Wakes the mail worker once a mail is queued. */
  onMail?: () => void;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

function invalidCode(): AppError {
  return new AppError('MFA_CODE_INVALID', 'This code is wrong, expired or already used.');
}

function noChallenge(): AppError {
  return new AppError('MFA_CHALLENGE_INVALID', 'This sign-in expired; enter your password again.');
}

/**
 * Second factors: a TOTP authenticator with recovery codes, the challenge a
 * password sign-in yields when a factor is due, and step-up (a fresh check
 * stamped on the session, carried by its access tokens as `sua`).
 */
export class MfaService {
  private readonly rules: LoginLimitRules;
  constructor(private readonly deps: MfaDeps) {
    this.rules = deps.limit ?? DEFAULT_LOGIN_LIMIT;
  }

  async hasFactor(userId: string): Promise<boolean> {
    const totp = await repo.findTotp(this.deps.db, userId);
    return totp?.confirmed_at != null;
  }

  /** The `sua` claim of the session's tokens: undefined when the account has no factor. */
  async stepUpClaim(userId: string, sessionId: string): Promise<number | undefined> {
    if (!(await this.hasFactor(userId))) return undefined;
    if (!UUID.test(sessionId)) return 0;
    const session = await repo.sessionStepUp(this.deps.db, userId, sessionId);
    return session?.step_up_at ? Math.floor(session.step_up_at.getTime() / 1000) : 0;
  }

  async status(userId: string, sessionId: string | undefined): Promise<MfaStatus> {
    const totp = await this.hasFactor(userId);
    const session =
      sessionId && UUID.test(sessionId)
        ? await repo.sessionStepUp(this.deps.db, userId, sessionId)
        : null;
    const until = session?.step_up_at
      ? new Date(session.step_up_at.getTime() + STEP_UP_SECONDS * 1000)
      : null;
    return {
      totp,
      recoveryCodesLeft: totp ? await repo.recoveryCodesLeft(this.deps.db, userId) : 0,
      stepUpUntil: totp && until && until.getTime() > Date.now() ? until.toISOString() : null,
    };
  }

  async beginTotp(user: { id: string; username: string }): Promise<TotpEnrolment> {
    const secret = newTotpSecret();
    if (!(await repo.putPendingTotp(this.deps.db, user.id, this.deps.box.seal(user.id, secret))))
      throw new AppError('MFA_ALREADY_ENABLED', 'An authenticator app is already set up.');
    const uri = otpauthUri(secret, user.username, this.deps.issuer);
    return { secret, otpauthUri: uri, qrCode: await qrDataUrl(uri) };
  }

  /**
   * Confirms the pending enrolment with a code from the app; the session
   * counts as stepped up, and the recovery codes are returned once.
   */
  async confirmTotp(
    userId: string,
    sessionId: string | undefined,
    code: string,
  ): Promise<string[]> {
    const { db } = this.deps;
    const pending = await repo.findTotp(db, userId);
    if (!pending || pending.confirmed_at)
      throw new AppError('MFA_NOT_ENABLED', 'Start the set-up again: no enrolment is pending.');
    await this.mayTry(userId);
    const step = await matchTotp(this.deps.box.open(userId, pending.secret), code.trim(), null);
    if (step === null) {
      await this.failed(userId);
      throw invalidCode();
    }
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const confirmed = await db.tx(async (q) => {
      if (!(await repo.confirmTotp(q, userId, step))) return false;
      await repo.replaceRecoveryCodes(
        q,
        userId,
        codes.map((c) => ({ id: uuidv7(), hash: hashRecoveryCode(c) })),
      );
      if (sessionId && UUID.test(sessionId)) await repo.markStepUp(q, userId, sessionId);
      return true;
    });
    if (!confirmed)
      throw new AppError('MFA_ALREADY_ENABLED', 'An authenticator app is already set up.');
    await clearFailures(db, `mfa:${userId}`);
    this.deps.logger.info({ userId }, 'authenticator app enrolled');
    return codes;
  }

  /** Removes the authenticator and the recovery codes; needs a code checked now. */
  async disableTotp(userId: string, code: string): Promise<void> {
    if (!(await this.hasFactor(userId)))
      throw new AppError('MFA_NOT_ENABLED', 'No authenticator app is set up.');
    await this.verify(userId, code);
    await repo.deleteFactors(this.deps.db, userId);
    this.deps.logger.info({ userId }, 'authenticator app removed');
  }

  async regenerateRecoveryCodes(userId: string): Promise<string[]> {
    if (!(await this.hasFactor(userId)))
      throw new AppError('MFA_NOT_ENABLED', 'No authenticator app is set up.');
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.deps.db.tx((q) =>
      repo.replaceRecoveryCodes(
        q,
        userId,
        codes.map((c) => ({ id: uuidv7(), hash: hashRecoveryCode(c) })),
      ),
    );
    return codes;
  }

  /** After a right password: a challenge when the account has a second factor, else null. */
  async challengeFor(userId: string): Promise<MfaChallenge | null> {
    if (!(await this.hasFactor(userId))) return null;
    const token = randomBytes(32).toString('base64url');
    await repo.insertChallenge(this.deps.db, {
      id: uuidv7(),
      userId,
      hash: hashToken(token),
      expiresAt: new Date(Date.now() + MFA_CHALLENGE_TTL_SECONDS * 1000),
    });
    return {
      mfaRequired: true,
      challenge: token,
      expiresIn: MFA_CHALLENGE_TTL_SECONDS,
      methods: ['totp', 'recovery'],
    };
  }

  /** The user a challenge signs in once its code is right; the challenge works once. */
  async completeChallenge(challenge: string, code: string): Promise<string> {
    const { db } = this.deps;
    const row = await repo.attemptChallenge(db, hashToken(challenge));
    if (
      !row ||
      row.used_at !== null ||
      row.expires_at.getTime() <= Date.now() ||
      row.attempts >= CHALLENGE_ATTEMPTS
    )
      throw noChallenge();
    await this.verify(row.user_id, code);
    if (!(await repo.spendChallenge(db, row.id))) throw noChallenge();
    return row.user_id;
  }

  /** Checks a second factor now and stamps the session; the new check time. */
  async stepUp(userId: string, sessionId: string | undefined, code: string): Promise<Date> {
    if (!(await this.hasFactor(userId)))
      throw new AppError('MFA_NOT_ENABLED', 'No second factor is set up on this account.');
    if (!sessionId || !UUID.test(sessionId))
      throw new AppError('AUTH_REFRESH_INVALID', 'Sign in again.');
    await this.verify(userId, code);
    const at = await repo.markStepUp(this.deps.db, userId, sessionId);
    if (!at) throw new AppError('AUTH_REFRESH_INVALID', 'Sign in again.');
    return at;
  }

  /**
   * A TOTP code or a recovery code, each accepted once; wrong ones counted
   * per account under the login rules (slowed, then locked).
   */
  async verify(userId: string, input: string): Promise<'totp' | 'recovery'> {
    const { db } = this.deps;
    await this.mayTry(userId);
    const code = input.trim();
    let used: 'totp' | 'recovery' | null = null;
    const totp = await repo.findTotp(db, userId);
    if (/^\d{6}$/.test(code)) {
      if (totp?.confirmed_at) {
        const last = totp.last_step === null ? null : Number(totp.last_step);
        const step = await matchTotp(this.deps.box.open(userId, totp.secret), code, last);
        if (step !== null && (await repo.useStep(db, userId, step))) used = 'totp';
      }
    } else {
      const recovery = normaliseRecoveryCode(code);
      if (recovery && (await repo.useRecoveryCode(db, userId, hashRecoveryCode(recovery)))) {
        used = 'recovery';
        this.deps.logger.info({ userId }, 'recovery code used');
      }
    }
    if (!used) {
      await this.failed(userId);
      throw invalidCode();
    }
    await clearFailures(db, `mfa:${userId}`);
    return used;
  }

  private async mayTry(userId: string): Promise<void> {
    try {
      await assertMayTry(this.deps.db, `mfa:${userId}`, this.rules);
    } catch (err) {
      if (isAppError(err) && err.status === 429)
        throw new AppError(
          'MFA_THROTTLED',
          'Too many wrong codes for this account; wait before trying again.',
          err.headers ? { headers: err.headers } : {},
        );
      throw err;
    }
  }

  private async failed(userId: string): Promise<void> {
    const { db, logger } = this.deps;
    if (!(await recordFailure(db, `mfa:${userId}`, this.rules))) return;
    logger.warn({ userId }, 'second factor locked after repeated wrong codes');
    // Sign-in codes are asked for only after the right password: its owner should change it.
    const user = await users.findById(db, userId);
    if (!user) return;
    await enqueueLockMail(db, user, new Date(Date.now() + this.rules.lockMs), 'second-factor');
    this.deps.onMail?.();
  }
}
