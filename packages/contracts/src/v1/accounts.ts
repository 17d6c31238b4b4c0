import Type, { type Static } from 'typebox';

/**
 * How long a second-factor check counts for the actions that need a recent
 * one (stream key, password and email change, factors, admin actions).
 */
export const STEP_UP_SECONDS = 10 * 60;
/** Lifetime of the challenge a password sign-in returns when a second factor is due. */
export const MFA_CHALLENGE_TTL_SECONDS = 5 * 60;
/** How many recovery codes an enrolment (or a regeneration) hands out. */
export const RECOVERY_CODE_COUNT = 10;

/** A six-digit authenticator code, or a recovery code (`xxxx-xxxx-xxxx-xxxx`). */
export const SecondFactorCode = Type.String({ minLength: 6, maxLength: 32 });

/**
 * What `POST /api/v1/auth/login` answers (200) instead of tokens when the
 * account has a second factor: no session exists yet, only this challenge.
 */
export const MfaChallenge = Type.Object({
  mfaRequired: Type.Literal(true),
  challenge: Type.String(),
  expiresIn: Type.Integer(),
  methods: Type.Array(Type.Union([Type.Literal('totp'), Type.Literal('recovery')])),
});
export type MfaChallenge = Static<typeof MfaChallenge>;

export const MfaVerifyRequest = Type.Object(
  { challenge: Type.String({ minLength: 1, maxLength: 128 }), code: SecondFactorCode },
  { additionalProperties: false },
);
export type MfaVerifyRequest = Static<typeof MfaVerifyRequest>;

/** A second-factor code for step-up, disabling a factor and the like. */
export const SecondFactorRequest = Type.Object(
  { code: SecondFactorCode },
  { additionalProperties: false },
);
export type SecondFactorRequest = Static<typeof SecondFactorRequest>;

/** The second factors of the signed-in account. */
export const MfaStatus = Type.Object({
  totp: Type.Boolean(),
  recoveryCodesLeft: Type.Integer(),
  /** Until when this session's last second-factor check counts; null when it has none. */
  stepUpUntil: Type.Union([Type.String(), Type.Null()]),
});
export type MfaStatus = Static<typeof MfaStatus>;

/** A started TOTP enrolment: show the QR code, then confirm with a code from the app. */
export const TotpEnrolment = Type.Object({
  secret: Type.String(),
  otpauthUri: Type.String(),
  /** The otpauth URI as a QR code, an SVG image in a data URL. */
  qrCode: Type.String(),
});
export type TotpEnrolment = Static<typeof TotpEnrolment>;

/** A fresh access token whose second-factor check is now. */
export const StepUpResponse = Type.Object({
  accessToken: Type.String(),
  expiresIn: Type.Integer(),
  stepUpUntil: Type.String(),
});
export type StepUpResponse = Static<typeof StepUpResponse>;

/** Recovery codes, shown once; with the session's fresh access token. */
export const RecoveryCodes = Type.Object({
  recoveryCodes: Type.Array(Type.String()),
  accessToken: Type.String(),
  expiresIn: Type.Integer(),
});
export type RecoveryCodes = Static<typeof RecoveryCodes>;

/** After a factor is removed: the session's access token without the second-factor claim. */
export const AccessTokenOnly = Type.Object({
  accessToken: Type.String(),
  expiresIn: Type.Integer(),
});
export type AccessTokenOnly = Static<typeof AccessTokenOnly>;

/**
 * One signed-in session of the caller (`GET /api/v1/me/sessions`): a refresh
 * family not ended and not expired. `device` is the browser and system in
 * words, read from the User-Agent sent at sign-in ("Firefox on Linux"), or
 * "Unknown device". `lastUsedAt` is the last refresh (the sign-in until then).
 */
export const SessionInfo = Type.Object({
  id: Type.String(),
  device: Type.String(),
  createdAt: Type.String(),
  lastUsedAt: Type.String(),
  /** The session of the access token that asked. */
  current: Type.Boolean(),
});
export type SessionInfo = Static<typeof SessionInfo>;
/** Newest use first. */
export const SessionList = Type.Object({ items: Type.Array(SessionInfo) });
export type SessionList = Static<typeof SessionList>;
export const SessionIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export type SessionIdParams = Static<typeof SessionIdParams>;
/** `POST /api/v1/me/sessions/revoke-others`: how many sessions it ended. */
export const RevokedSessions = Type.Object({ revoked: Type.Integer({ minimum: 0 }) });
export type RevokedSessions = Static<typeof RevokedSessions>;

/** How long a password-reset link works. */
export const PASSWORD_RESET_TTL_SECONDS = 30 * 60;
/** How long an email-verification link works. */
export const EMAIL_VERIFICATION_TTL_SECONDS = 24 * 60 * 60;

/**
 * A link token from a mail: 256 random bits in base64url (43 characters).
 * The bounds keep junk from reaching the database; the service checks the rest.
 */
export const EmailLinkToken = Type.String({ minLength: 16, maxLength: 128 });

/** `POST /api/v1/auth/password-reset`: asks for a reset link by mail. */
export const PasswordResetRequest = Type.Object(
  { email: Type.String({ format: 'email', maxLength: 254 }) },
  { additionalProperties: false },
);
export type PasswordResetRequest = Static<typeof PasswordResetRequest>;

/**
 * The answer (202) to a reset request and to a resend of the verification
 * mail: the same whether or not an account has the address, so it tells
 * nobody which addresses have accounts.
 */
export const MailQueued = Type.Object({ status: Type.Literal('queued') });
export type MailQueued = Static<typeof MailQueued>;

/** `POST /api/v1/auth/password-reset/confirm`: the token from the link and the new password. */
export const PasswordResetConfirm = Type.Object(
  { token: EmailLinkToken, password: Type.String({ minLength: 8, maxLength: 128 }) },
  { additionalProperties: false },
);
export type PasswordResetConfirm = Static<typeof PasswordResetConfirm>;

/** `POST /api/v1/auth/verify-email`: the token from the verification link. */
export const VerifyEmailRequest = Type.Object(
  { token: EmailLinkToken },
  { additionalProperties: false },
);
export type VerifyEmailRequest = Static<typeof VerifyEmailRequest>;

/** The verified address (the one the link was sent to). */
export const VerifyEmailResponse = Type.Object({
  email: Type.String(),
  emailVerified: Type.Literal(true),
});
export type VerifyEmailResponse = Static<typeof VerifyEmailResponse>;

/** Where a queued mail stands: waiting (or between retries), delivered, or given up on. */
export const MailStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('sent'),
  Type.Literal('failed'),
]);
export type MailStatus = Static<typeof MailStatus>;

/**
 * One mail of the queue as `GET /admin/v1/mail` shows it. `text` is the body
 * only for mails delivered to the log (no `SMTP_URL`), so that a local
 * operator can follow the links; a mail sent by SMTP keeps no body.
 */
export const AdminMail = Type.Object({
  id: Type.String(),
  to: Type.String(),
  kind: Type.String(),
  subject: Type.String(),
  text: Type.Union([Type.String(), Type.Null()]),
  status: MailStatus,
  attempts: Type.Integer({ minimum: 0 }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  sentAt: Type.Union([Type.String(), Type.Null()]),
});
export type AdminMail = Static<typeof AdminMail>;

export const AdminMailList = Type.Object({
  items: Type.Array(AdminMail),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type AdminMailList = Static<typeof AdminMailList>;

export const AdminMailQuery = Type.Object(
  {
    /** The recipient, exactly (case-insensitively). */
    to: Type.Optional(Type.String({ maxLength: 254 })),
    cursor: Type.Optional(Type.String({ format: 'uuid' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  },
  { additionalProperties: false },
);
export type AdminMailQuery = Static<typeof AdminMailQuery>;
