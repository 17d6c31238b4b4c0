import type { Me, MfaChallenge, RegisterRequest } from '@neon/contracts';
import type { Db, Queryable } from '@neon/db';
import { AppError, uuidv7, type Client, type Logger } from '@neon/kit';
import { isTooCommon } from '../domain/password-policy.js';
import { hashPassword, verifyPassword } from '../domain/password-hash.js';
import {
  hashRefreshToken,
  looksLikeRefreshToken,
  newRefreshToken,
  openSuccessor,
  sameHash,
  sealSuccessor,
} from '../domain/refresh-token.js';
import type { TokenIssuer } from '../keys/token-issuer.js';
import { describeDevice } from '../domain/user-agent.js';
import { enqueueLockMail, enqueueMail } from '../mail/mail.repository.js';
import { enqueue } from '../outbox/outbox.js';
import { isReservedUsername } from '../users/reserved-names.js';
import * as users from '../users/user.repository.js';
import type { UserRow } from '../users/user.repository.js';
import { me, rolesOf } from '../users/user-view.js';
import {
  accountKey,
  assertMayTry,
  clearFailures,
  DEFAULT_LOGIN_LIMIT,
  recordFailure,
  type LoginLimitRules,
} from './login-limit.js';
import { deviceIdOf, seeDevice } from './known-devices.js';
import * as refresh from './refresh-token.repository.js';

export interface AuthSettings {
  refreshAbsoluteSeconds: number;
  refreshIdleSeconds: number;
  refreshGraceSeconds: number;
}

export interface Session {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  /** When the refresh token's family dies, for the cookie's Max-Age. */
  refreshExpiresAt: Date;
  user: Me;
  /** The browser's device cookie to set (kept or new), when the sign-in came from one. */
  deviceId?: string;
}

/** The browser a sign-in comes from, by the device cookie it presented (validated here; undefined: none). */
export interface SignInDevice {
  cookie: string | undefined;
}

export interface AuthDeps {
  db: Db;
  logger: Logger;
  issuer: TokenIssuer;
  commonPasswords: ReadonlySet<string>;
  dummyHash: string;
  settings: AuthSettings;
  /** Called after a commit that queued events. */
  onEvents: () => void;
  /**
   * Publishes what the outbox holds and resolves once it is on the bus: an
   * ended session is announced before the request that ended it is answered.
   */
  publishNow: () => Promise<void>;
  /** The per-account failed-login rules; the defaults unless a test narrows them. */
  loginLimit?: LoginLimitRules;
  /** Second factors (mfa/): the challenge after a right password, the `sua` claim. */
  mfa?: SecondFactors;
  /** Wakes the mail worker after a commit that queued a mail (the verification at sign-up). */
  onMail?: () => void;
}

/** What sign-in needs of the second factors. */
export interface SecondFactors {
  /** A challenge when the account has a second factor, else null. */
  challengeFor(userId: string): Promise<MfaChallenge | null>;
  /** The session's `sua` claim; undefined when the account has no second factor. */
  stepUpClaim(userId: string, sessionId: string): Promise<number | undefined>;
}

/** Whether a Postgres error is a unique violation on the given column. */
export function uniqueViolation(err: unknown): string | null {
  const e = err as { code?: string; constraint?: string; detail?: string; message?: string };
  if (e?.code !== '23505') return null;
  const where = `${e.constraint ?? ''} ${e.detail ?? ''} ${e.message ?? ''}`;
  return where.includes('email') ? 'email' : where.includes('username') ? 'username' : 'unknown';
}

/** Accounts and sessions: registration, login, refresh rotation, logout, password change. */
export class AuthService {
  constructor(private readonly deps: AuthDeps) {}

  get accessTtlSeconds(): number {
    return this.deps.issuer.accessTtlSeconds;
  }

  checkPassword(password: string, account: { username: string; email: string }): void {
    if (isTooCommon(this.deps.commonPasswords, password, account)) {
      throw new AppError(
        'AUTH_PASSWORD_TOO_COMMON',
        'This password is too common or too close to the account name; choose another.',
      );
    }
  }

  /**
   * A signed-in user's password, asked again before a change of password or
   * address. Counted with failed sign-ins (login-limit.ts): one who holds a
   * stolen session gets no more guesses at the password than one who does not.
   */
  async verifyCurrentPassword(
    user: Pick<UserRow, 'id' | 'email' | 'password_hash'>,
    password: string,
  ): Promise<void> {
    const { db } = this.deps;
    const rules = this.deps.loginLimit ?? DEFAULT_LOGIN_LIMIT;
    await assertMayTry(db, user.id, rules);
    if (await verifyPassword(user.password_hash, password)) {
      await clearFailures(db, user.id);
      return;
    }
    if (await recordFailure(db, user.id, rules)) await this.lockedOut(user, rules);
    throw new AppError('AUTH_PASSWORD_WRONG', 'The current password is wrong.');
  }

  /** Wrong passwords just locked the account: logged, and its owner told by mail. */
  private async lockedOut(user: Pick<UserRow, 'id' | 'email'>, rules: LoginLimitRules) {
    this.deps.logger.warn({ userId: user.id }, 'account locked after repeated wrong passwords');
    await enqueueLockMail(this.deps.db, user, new Date(Date.now() + rules.lockMs), 'password');
    this.deps.onMail?.();
  }

  /**
   * Creates an account (the command line passes `isAdmin`); throws on a
   * reserved or taken name or a weak password. The operator creating an
   * admin from the command line may take a reserved name.
   */
  async createUser(input: RegisterRequest, isAdmin = false): Promise<UserRow> {
    const username = input.username.toLowerCase();
    const email = input.email.trim().toLowerCase();
    if (!isAdmin && isReservedUsername(username)) {
      throw new AppError(
        'AUTH_USERNAME_RESERVED',
        'This username is reserved or looks like a reserved name; choose another.',
      );
    }
    this.checkPassword(input.password, { username, email });
    const taken = await users.existing(this.deps.db, username, email);
    if (taken.username) throw new AppError('AUTH_USERNAME_TAKEN', 'This username is taken.');
    if (taken.email) throw new AppError('AUTH_EMAIL_TAKEN', 'An account uses this email already.');
    const passwordHash = await hashPassword(input.password);
    try {
      const user = await this.deps.db.tx(async (q) => {
        const row = await users.insertUser(q, {
          id: uuidv7(),
          username,
          email,
          passwordHash,
          isAdmin,
        });
        await enqueue(q, 'identity.user.registered.v1', {
          userId: row.id,
          username: row.username,
          displayName: row.display_name,
          createdAt: row.created_at.toISOString(),
        });
        // The worker writes the mail (and its link) off the request path.
        await enqueueMail(q, {
          id: uuidv7(),
          kind: 'verify-email',
          recipient: row.email,
          userId: row.id,
        });
        return row;
      });
      this.deps.onEvents();
      this.deps.onMail?.();
      return user;
    } catch (err) {
      // Two registrations racing for one name: the index decides.
      const column = uniqueViolation(err);
      if (column === 'email')
        throw new AppError('AUTH_EMAIL_TAKEN', 'An account uses this email already.');
      if (column) throw new AppError('AUTH_USERNAME_TAKEN', 'This username is taken.');
      throw err;
    }
  }

  /** `userAgent`: as stored with the session (see domain/user-agent.ts). */
  async register(
    input: RegisterRequest,
    userAgent: string | null = null,
    device?: SignInDevice,
  ): Promise<Session> {
    const user = await this.createUser(input);
    // The first browser is known from the start: no "new sign-in" mail for it.
    return this.startSession(user, null, userAgent, device && { ...device, announce: false });
  }

  /**
   * Unknown account and wrong password fail alike: same code, and an argon2
   * verification either way so the time does not tell them apart. An
   * account's failures are counted whatever the address (login-limit.ts):
   * slowed, then locked, and a lock refuses the right password too.
   */
  async login(
    login: string,
    password: string,
    userAgent: string | null = null,
    device?: SignInDevice,
  ): Promise<Session | MfaChallenge> {
    const { db } = this.deps;
    const rules = this.deps.loginLimit ?? DEFAULT_LOGIN_LIMIT;
    const user = await users.findByLogin(db, login);
    const account = accountKey(user?.id, login);
    await assertMayTry(db, account, rules);
    const ok = await verifyPassword(user?.password_hash ?? this.deps.dummyHash, password);
    if (!user || !ok) {
      if ((await recordFailure(db, account, rules)) && user) await this.lockedOut(user, rules);
      throw new AppError('AUTH_INVALID_CREDENTIALS', 'The login or the password is wrong.');
    }
    if (user.suspended_at) throw suspended();
    await clearFailures(db, user.id);
    // A second factor is due: no session until it is checked (mfa/).
    const challenge = await this.deps.mfa?.challengeFor(user.id);
    if (challenge) return challenge;
    return this.startSession(user, null, userAgent, device && { ...device, announce: true });
  }

  /** A session for a user whose second factor was just checked (the MFA challenge). */
  async signInChecked(
    userId: string,
    userAgent: string | null = null,
    device?: SignInDevice,
  ): Promise<Session> {
    const user = await users.findById(this.deps.db, userId);
    if (!user) throw new AppError('USER_NOT_FOUND', 'This account no longer exists.');
    if (user.suspended_at) throw suspended();
    return this.startSession(user, new Date(), userAgent, device && { ...device, announce: true });
  }

  /** A fresh access token for the caller's session (after a step-up or a change of factors). */
  async accessTokenFor(userId: string, sessionId: string | undefined): Promise<string> {
    const family = sessionId ? await refresh.familyOfUser(this.deps.db, sessionId, userId) : null;
    const user = await users.findById(this.deps.db, userId);
    if (!family || !user) throw new AppError('AUTH_REFRESH_INVALID', 'Sign in again.');
    if (user.suspended_at) throw suspended();
    return (await this.session(user, family.family_id, '', new Date())).accessToken;
  }

  /**
   * `stepUpAt`: the new session counts as having checked a second factor then.
   * `device`: the browser signing in, recorded for the account; with
   * `announce`, a browser the account has not used while it has used others
   * gets its owner a "new sign-in" mail.
   */
  private async startSession(
    user: UserRow,
    stepUpAt: Date | null = null,
    userAgent: string | null = null,
    device?: SignInDevice & { announce: boolean },
  ): Promise<Session> {
    const token = newRefreshToken();
    const now = Date.now();
    const familyExpires = new Date(now + this.deps.settings.refreshAbsoluteSeconds * 1000);
    const familyId = uuidv7();
    const deviceId = device ? deviceIdOf(device.cookie) : undefined;
    let mailed = false;
    await this.deps.db.tx(async (q) => {
      if (device && deviceId) {
        const seen = await seeDevice(q, user.id, deviceId);
        if (device.announce && seen.isNew && seen.others > 0) {
          await enqueueMail(q, {
            id: uuidv7(),
            kind: 'new-device',
            recipient: user.email,
            userId: user.id,
            detail: { device: describeDevice(userAgent), at: new Date(now).toISOString() },
          });
          mailed = true;
        }
      }
      await refresh.createFamily(q, {
        id: familyId,
        userId: user.id,
        expiresAt: familyExpires,
        userAgent,
      });
      if (stepUpAt) await refresh.setStepUp(q, familyId, stepUpAt);
      await refresh.insertToken(q, {
        id: uuidv7(),
        familyId,
        hash: hashRefreshToken(token),
        idleExpiresAt: this.idleExpiry(now, familyExpires),
      });
    });
    if (mailed) this.deps.onMail?.();
    const session = await this.session(user, familyId, token, familyExpires);
    return deviceId ? { ...session, deviceId } : session;
  }

  private idleExpiry(now: number, familyExpires: Date): Date {
    return new Date(
      Math.min(now + this.deps.settings.refreshIdleSeconds * 1000, familyExpires.getTime()),
    );
  }

  /** The session's id is its refresh family's: tokens carry it as `sid`. */
  private async session(
    user: UserRow,
    sessionId: string,
    refreshToken: string,
    expires: Date,
  ): Promise<Session> {
    const roles = rolesOf(user);
    return {
      accessToken: await this.deps.issuer.accessToken({
        id: user.id,
        username: user.username,
        roles,
        sessionId,
        stepUpAt: await this.deps.mfa?.stepUpClaim(user.id, sessionId),
      }),
      expiresIn: this.deps.issuer.accessTtlSeconds,
      refreshToken,
      refreshExpiresAt: expires,
      user: me(user),
    };
  }

  /**
   * Rotates a refresh token. Presented again within the grace window (a
   * second tab refreshing with the same cookie), a just-rotated token yields
   * the same successor; presented later, or after its successor was itself
   * used, it is a replay and the whole family dies.
   */
  async refresh(token: string | undefined): Promise<Session> {
    if (!token || !looksLikeRefreshToken(token)) {
      throw new AppError('AUTH_REFRESH_INVALID', 'Sign in again.');
    }
    const hash = hashRefreshToken(token);
    const now = Date.now();
    const outcome = await this.deps.db.tx(async (q): Promise<Outcome> => {
      const row = await refresh.findForUpdate(q, hash);
      if (!row) return { kind: 'invalid' };
      const user = await users.findById(q, row.user_id);
      if (!user) return { kind: 'invalid' };
      if (user.suspended_at) return { kind: 'suspended' };
      if (row.family_revoked_at) return { kind: 'invalid' };
      if (row.family_expires_at.getTime() <= now || row.idle_expires_at.getTime() <= now) {
        return { kind: 'invalid' };
      }
      if (row.rotated_at) {
        const withinGrace =
          now - row.rotated_at.getTime() <= this.deps.settings.refreshGraceSeconds * 1000 &&
          row.successor_rotated_at === null &&
          row.successor_box !== null;
        const successor = withinGrace ? openSuccessor(token, row.successor_box!) : null;
        if (successor && (await this.isToken(q, row.successor_id, successor))) {
          await refresh.touchFamily(q, row.family_id);
          return {
            kind: 'ok',
            user,
            familyId: row.family_id,
            token: successor,
            expires: row.family_expires_at,
          };
        }
        // A stolen token is the likely cause: its access tokens and sockets end too.
        if (await refresh.revokeFamily(q, row.family_id, 'reuse'))
          await enqueueSessionsEnded(q, row.user_id, [row.family_id], 'reuse');
        return { kind: 'reused', familyId: row.family_id, userId: row.user_id };
      }
      const next = newRefreshToken();
      const nextId = uuidv7();
      await refresh.insertToken(q, {
        id: nextId,
        familyId: row.family_id,
        hash: hashRefreshToken(next),
        idleExpiresAt: this.idleExpiry(now, row.family_expires_at),
      });
      await refresh.markRotated(q, row.id, { id: nextId, box: sealSuccessor(token, next) });
      await refresh.touchFamily(q, row.family_id);
      return {
        kind: 'ok',
        user,
        familyId: row.family_id,
        token: next,
        expires: row.family_expires_at,
      };
    });
    switch (outcome.kind) {
      case 'invalid':
        throw new AppError('AUTH_REFRESH_INVALID', 'Sign in again.');
      case 'suspended':
        throw suspended();
      case 'reused':
        await this.announce();
        this.deps.logger.warn(
          { familyId: outcome.familyId, userId: outcome.userId },
          'rotated refresh token presented again; family revoked',
        );
        throw new AppError(
          'AUTH_REFRESH_REUSED',
          'This session was ended for safety; sign in again.',
        );
      case 'ok':
        return this.session(outcome.user, outcome.familyId, outcome.token, outcome.expires);
    }
  }

  private async isToken(q: Queryable, id: string | null, token: string): Promise<boolean> {
    if (!id) return false;
    const rows = await q.query<{ token_hash: string }>(
      `SELECT token_hash FROM identity.refresh_tokens WHERE id = $1`,
      [id],
    );
    return rows[0] !== undefined && sameHash(rows[0].token_hash, hashRefreshToken(token));
  }

  /**
   * Ends the session the refresh token belongs to, or else the one the
   * caller's access token names; an unknown or missing token is already
   * logged out. Resolves once the end is on the bus, so the session's access
   * tokens and sockets are refused by the time the caller hears back.
   */
  async logout(token: string | undefined, caller: Client | null): Promise<void> {
    const ended = await this.deps.db.tx(async (q) => {
      let family: { family_id: string; user_id: string } | null = null;
      if (token && looksLikeRefreshToken(token))
        family = await refresh.familyOf(q, hashRefreshToken(token));
      else if (caller?.sessionId)
        family = await refresh.familyOfUser(q, caller.sessionId, caller.id);
      if (!family || !(await refresh.revokeFamily(q, family.family_id, 'logout'))) return false;
      await enqueueSessionsEnded(q, family.user_id, [family.family_id], 'logout');
      return true;
    });
    if (ended) await this.announce();
  }

  /** Waits for queued events to reach the bus; a bus outage leaves them to the relay's retries. */
  private async announce(): Promise<void> {
    try {
      await this.deps.publishNow();
    } catch (err) {
      this.deps.logger.error({ err }, 'ended sessions not announced yet; the outbox will retry');
    }
  }

  /**
   * Changes the password and ends every session of the account, the caller's
   * own included, then starts a fresh one for the caller: every device is
   * signed out at once (access tokens refused, sockets closed) and the one
   * that made the change stays signed in with new tokens.
   */
  async changePassword(
    userId: string,
    currentPassword: string,
    newPassword: string,
    /** The caller's last second-factor check, carried to the new session. */
    stepUpAt: Date | null = null,
    userAgent: string | null = null,
  ): Promise<Session> {
    const user = await users.findById(this.deps.db, userId);
    if (!user) throw new AppError('USER_NOT_FOUND', 'This account no longer exists.');
    await this.verifyCurrentPassword(user, currentPassword);
    if (user.suspended_at) throw suspended();
    this.checkPassword(newPassword, user);
    const hash = await hashPassword(newPassword);
    const revoked = await this.deps.db.tx(async (q) => {
      await users.setPasswordHash(q, userId, hash);
      const ids = await refresh.endUserFamilies(q, userId, 'password-change');
      if (ids.length > 0) await enqueueSessionsEnded(q, userId, ids, 'password-change');
      return ids.length;
    });
    if (revoked > 0) await this.announce();
    this.deps.logger.info({ userId, revoked }, 'password changed; sessions revoked');
    return this.startSession(user, stepUpAt, userAgent);
  }
}

type Outcome =
  | { kind: 'invalid' }
  | { kind: 'suspended' }
  | { kind: 'reused'; familyId: string; userId: string }
  | { kind: 'ok'; user: UserRow; familyId: string; token: string; expires: Date };

/** Queues `identity.session.revoked.v1` in the transaction that ended the sessions. */
export function enqueueSessionsEnded(
  q: Queryable,
  userId: string,
  sessionIds: string[],
  reason: 'logout' | 'password-change' | 'reuse',
): Promise<void> {
  return enqueue(q, 'identity.session.revoked.v1', {
    userId,
    sessionIds,
    reason,
    revokedAt: new Date().toISOString(),
  });
}

function suspended(): AppError {
  return new AppError('AUTH_ACCOUNT_SUSPENDED', 'This account is suspended.');
}
