import type { AdminUser, Me, PublicProfile, Role } from '@neon/contracts';
import type { UserRow } from './user.repository.js';

export function rolesOf(user: UserRow): Role[] {
  return user.is_admin ? ['user', 'admin'] : ['user'];
}

export function publicProfile(user: UserRow): PublicProfile {
  return {
    id: user.id,
    username: user.username,
    displayName: user.display_name,
    bio: user.bio,
    avatarUrl: user.avatar_url,
    createdAt: user.created_at.toISOString(),
  };
}

export function me(user: UserRow): Me {
  return {
    ...publicProfile(user),
    email: user.email,
    emailVerified: user.email_verified_at !== null,
    roles: rolesOf(user),
  };
}

export function adminView(user: UserRow): AdminUser {
  return {
    ...me(user),
    suspended: user.suspended_at !== null,
    suspendedAt: user.suspended_at?.toISOString() ?? null,
    suspendedReason: user.suspended_reason,
  };
}
