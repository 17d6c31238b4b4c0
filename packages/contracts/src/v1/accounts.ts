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
