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
};
