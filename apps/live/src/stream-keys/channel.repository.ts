import type { Db, Queryable } from '@neon/db';

export interface ChannelRow {
  user_id: string;
  username: string;
  title: string;
  key_hash: Buffer;
  key_sealed: string;
}

export interface PublishingChannel extends ChannelRow {
  suspended: boolean;
}

function toBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  throw new Error('unexpected bytea value');
}

function row(r: ChannelRow): ChannelRow {
  return { ...r, key_hash: toBuffer(r.key_hash) };
}

/** SQL for channels (stream key + title) and the users projection. */
export class ChannelRepository {
  constructor(private readonly db: Db) {}

  async byUserId(userId: string): Promise<ChannelRow | null> {
    const rows = await this.db.query<ChannelRow>(
      'SELECT user_id, username, title, key_hash, key_sealed FROM live.channels WHERE user_id = $1',
      [userId],
    );
    return rows[0] ? row(rows[0]) : null;
  }

  async byUsername(username: string): Promise<ChannelRow | null> {
    const rows = await this.db.query<ChannelRow>(
      'SELECT user_id, username, title, key_hash, key_sealed FROM live.channels WHERE username = $1',
      [username],
    );
    return rows[0] ? row(rows[0]) : null;
  }

  /** The channel a key publishes to, with whether its owner is suspended. */
  async byKeyHash(hash: Buffer): Promise<PublishingChannel | null> {
    const rows = await this.db.query<PublishingChannel>(
      `SELECT c.user_id, c.username, c.title, c.key_hash, c.key_sealed,
              (u.suspended_at IS NOT NULL) AS suspended
         FROM live.channels c LEFT JOIN live.users u ON u.id = c.user_id
        WHERE c.key_hash = $1`,
      [hash],
    );
    return rows[0] ? { ...row(rows[0]), suspended: rows[0].suspended === true } : null;
  }

  /** Creates the channel row unless it exists; returns whichever row is stored. */
  async ensure(
    userId: string,
    username: string,
    hash: Buffer,
    sealed: string,
  ): Promise<ChannelRow> {
    await this.db.query(
      `INSERT INTO live.channels (user_id, username, title, key_hash, key_sealed)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO NOTHING`,
      [userId, username, `${username} is live`, hash, sealed],
    );
    const stored = await this.byUserId(userId);
    if (!stored) throw new Error('channel row vanished');
    return stored;
  }

  async replaceKey(userId: string, hash: Buffer, sealed: string): Promise<void> {
    await this.db.query(
      `UPDATE live.channels SET key_hash = $2, key_sealed = $3, key_created_at = now() WHERE user_id = $1`,
      [userId, hash, sealed],
    );
  }

  async setTitle(userId: string, title: string): Promise<void> {
    await this.db.query('UPDATE live.channels SET title = $2 WHERE user_id = $1', [userId, title]);
  }

  async userByUsername(username: string): Promise<{ id: string; username: string } | null> {
    const rows = await this.db.query<{ id: string; username: string }>(
      `SELECT id, username FROM live.users WHERE username = $1
       UNION ALL SELECT user_id AS id, username FROM live.channels WHERE username = $1 LIMIT 1`,
      [username],
    );
    return rows[0] ?? null;
  }

  /**
   * Records a suspension (`suspendedAt`) or its end (null) decided at `at`;
   * an older decision than the one stored is ignored. `q` is not in a
   * transaction: a lost race is retried as a statement of its own.
   */
  static async setStanding(
    q: Queryable,
    id: string,
    username: string,
    suspendedAt: string | null,
    at: string,
  ): Promise<void> {
    const store = () =>
      q.query(
        `INSERT INTO live.users (id, username, suspended_at, standing_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET suspended_at = EXCLUDED.suspended_at,
                                        standing_at = EXCLUDED.standing_at
          WHERE live.users.standing_at IS NULL OR live.users.standing_at <= EXCLUDED.standing_at`,
        [id, username, suspendedAt, at],
      );
    try {
      await store();
    } catch (err) {
      // Each suspension is stored twice at once (the group's copy and the replica's). When live
      // has no row for the user yet, both insert it, and the loser can hit the username's unique
      // index, which ON CONFLICT (id) does not arbitrate: the row is there now, so the next try
      // takes the id's conflict path.
      if ((err as { code?: unknown }).code !== '23505') throw err;
      await store();
    }
  }

  static async isSuspended(q: Queryable, id: string): Promise<boolean> {
    const rows = await q.query<{ suspended: boolean }>(
      'SELECT suspended_at IS NOT NULL AS suspended FROM live.users WHERE id = $1',
      [id],
    );
    return rows[0]?.suspended === true;
  }

  static async upsertUser(q: Queryable, id: string, username: string): Promise<void> {
    await q.query(
      `INSERT INTO live.users (id, username) VALUES ($1, $2)
       ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username`,
      [id, username],
    );
  }
}
