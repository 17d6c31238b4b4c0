import type { Me, PublicProfile, PublicUser, UpdateMeRequest } from '@neon/contracts';
import type { Db } from '@neon/db';
import { AppError } from '@neon/kit';
import { enqueue } from '../outbox/outbox.js';
import * as users from './user.repository.js';
import { me, publicProfile } from './user-view.js';

/** Public profiles and the caller's own account. */
export class UsersService {
  constructor(
    private readonly db: Db,
    private readonly onEvents: () => void,
  ) {}

  async profile(username: string): Promise<PublicProfile> {
    const user = await users.findByUsername(this.db, username);
    if (!user) throw new AppError('USER_NOT_FOUND', `No user is named ${username}.`);
    return publicProfile(user);
  }

  /**
   * Accounts as a third-party application sees them: the email only of the
   * token's own user, and only when the user let the app read it.
   */
  async forApp(
    ids: readonly string[],
    usernames: readonly string[],
    reader: { userId: string | null; mayReadEmail: boolean },
  ): Promise<PublicUser[]> {
    const rows =
      ids.length === 0 && usernames.length === 0 && reader.userId !== null
        ? await users.findActive(this.db, [reader.userId], [])
        : await users.findActive(this.db, ids, usernames);
    return rows.map((u) => ({
      id: u.id,
      login: u.username,
      displayName: u.display_name,
      description: u.bio,
      avatarUrl: u.avatar_url,
      createdAt: u.created_at.toISOString(),
      ...(reader.mayReadEmail && u.id === reader.userId ? { email: u.email } : {}),
    }));
  }

  async me(userId: string): Promise<Me> {
    const user = await users.findById(this.db, userId);
    if (!user) throw new AppError('USER_NOT_FOUND', 'This account no longer exists.');
    return me(user);
  }

  /** Every change is published, so the projections other services keep (chat's) follow. */
  async update(userId: string, patch: UpdateMeRequest): Promise<Me> {
    const updated = await this.db.tx(async (q) => {
      const user = await users.updateProfile(q, userId, {
        ...(patch.displayName !== undefined ? { displayName: patch.displayName.trim() } : {}),
        ...(patch.bio !== undefined ? { bio: patch.bio } : {}),
        ...(patch.avatarUrl !== undefined ? { avatarUrl: patch.avatarUrl } : {}),
      });
      if (!user) return null;
      await enqueue(q, 'identity.user.updated.v1', {
        userId: user.id,
        username: user.username,
        displayName: user.display_name,
        bio: user.bio,
        avatarUrl: user.avatar_url,
      });
      return user;
    });
    if (!updated) throw new AppError('USER_NOT_FOUND', 'This account no longer exists.');
    this.onEvents();
    return me(updated);
  }
}
