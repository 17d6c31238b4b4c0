import Type from 'typebox';
import { RoleName } from '../identity.js';

export const identityEvents = {
  'identity.user.registered.v1': Type.Object({
    userId: Type.String(),
    username: Type.String(),
    displayName: Type.String(),
    createdAt: Type.String(),
  }),
  'identity.user.updated.v1': Type.Object({
    userId: Type.String(),
    username: Type.String(),
    displayName: Type.String(),
    bio: Type.String(),
    avatarUrl: Type.Union([Type.String(), Type.Null()]),
  }),
  /** Access tokens the user holds that were issued until `suspendedAt` stop working at once. */
  'identity.user.suspended.v1': Type.Object({
    userId: Type.String(),
    username: Type.String(),
    suspendedAt: Type.String(),
  }),
  'identity.user.unsuspended.v1': Type.Object({
    userId: Type.String(),
    username: Type.String(),
  }),
  /**
   * The user's platform roles from `changedAt` on: an access token or socket
   * ticket that still carries other roles is stale, and is refused at once.
   */
  'identity.roles.changed.v1': Type.Object({
    userId: Type.String(),
    username: Type.String(),
    roles: Type.Array(RoleName),
    changedAt: Type.String(),
  }),
  /**
   * Sessions (refresh families) that ended: by logout, by a password change
   * (every session of the user, the one that made the change included: it gets
   * a fresh one in the answer), or because a rotated refresh token was
   * presented again. Access tokens and socket tickets whose `sid` is listed
   * are refused, and the sockets they opened are closed, at once. Published
   * before the request that ended them is answered.
   */
  'identity.session.revoked.v1': Type.Object({
    userId: Type.String(),
    sessionIds: Type.Array(Type.String()),
    reason: Type.Union([
      Type.Literal('logout'),
      Type.Literal('password-change'),
      Type.Literal('reuse'),
      // the user revoked an OAuth app, the app was deleted, or a grant's code or refresh token was replayed
      Type.Literal('oauth-revoked'),
    ]),
    revokedAt: Type.String(),
  }),
  /**
   * An OAuth app lost an authorization: a user disconnected it, or its grant
   * ended because the app revoked its token or a code or refresh token was
   * replayed (`userId` is that user); or its owner deleted the app (`userId`
   * null: every authorization, the app's own included). What was made with
   * that authorization before `revokedAt` ends (webhook subscriptions).
   */
  'identity.app_authorization.revoked.v1': Type.Object({
    clientId: Type.String(),
    userId: Type.Union([Type.String(), Type.Null()]),
    revokedAt: Type.String(),
  }),
  /**
   * A user registered an OAuth application (the developer console). Channels
   * keeps who owns which client id, so the console can show an app's webhook
   * subscriptions to its owner alone. Apps registered before this event
   * existed are announced once by identity's migration 0012.
   */
  'identity.oauth_client.created.v1': Type.Object({
    clientId: Type.String(),
    ownerId: Type.String(),
    createdAt: Type.String(),
  }),
  /**
   * The owner deleted the application. Its tokens and webhooks end through
   * `identity.app_authorization.revoked.v1` (`userId` null), published with it.
   */
  'identity.oauth_client.deleted.v1': Type.Object({
    clientId: Type.String(),
    ownerId: Type.String(),
    deletedAt: Type.String(),
  }),
};
