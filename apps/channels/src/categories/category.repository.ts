import type { AdminCategory } from '@neon/contracts';
import type { Db, Queryable } from '@neon/db';

const SELECT_ADMIN = `
  SELECT cat.slug, cat.name, cat.retired_at IS NOT NULL AS retired,
         (SELECT count(*)::int FROM channels.channels c WHERE c.category_slug = cat.slug) AS channels
    FROM channels.categories cat`;

/** The category list as admins change it; every change is audited in the same transaction. */
export class CategoryRepository {
  constructor(private readonly db: Db) {}

  /** Every category, retired ones included, in the directory's seeded order. */
  list(): Promise<AdminCategory[]> {
    return this.db.query<AdminCategory>(`${SELECT_ADMIN} ORDER BY cat.position, cat.name`);
  }

  async get(slug: string, q: Queryable = this.db): Promise<AdminCategory | null> {
    const rows = await q.query<AdminCategory>(`${SELECT_ADMIN} WHERE cat.slug = $1`, [slug]);
    return rows[0] ?? null;
  }

  /** True when a category has this slug or (case-insensitively) this name, other than `except`. */
  async taken(slug: string | null, name: string | null, except?: string): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM channels.categories
        WHERE (slug = $1 OR lower(name) = lower($2)) AND slug IS DISTINCT FROM $3 LIMIT 1`,
      [slug, name, except ?? null],
    );
    return rows.length > 0;
  }

  /** Adds a category at the end of the list; null when the slug or name was taken meanwhile. */
  async add(slug: string, name: string, actorId: string): Promise<AdminCategory | null> {
    return this.db.tx(async (q) => {
      const rows = await q.query(
        `INSERT INTO channels.categories (slug, name, position)
         SELECT $1, $2, COALESCE(max(position), -1) + 1 FROM channels.categories
         ON CONFLICT DO NOTHING RETURNING slug`,
        [slug, name],
      );
      if (rows.length === 0) return null;
      await audit(q, actorId, 'category.added', slug, { name });
      return this.get(slug, q);
    });
  }

  /**
   * Renames and/or retires (or brings back) a category. A rename reaches the
   * search text of the channels in it. Null: no such category.
   */
  async update(
    slug: string,
    changes: { name?: string; retired?: boolean },
    actorId: string,
  ): Promise<AdminCategory | null> {
    return this.db.tx(async (q) => {
      const before = await q.query<{ name: string; retired: boolean }>(
        `SELECT name, retired_at IS NOT NULL AS retired FROM channels.categories
          WHERE slug = $1 FOR UPDATE`,
        [slug],
      );
      const was = before[0];
      if (!was) return null;
      if (changes.name !== undefined && changes.name !== was.name) {
        await q.query(`UPDATE channels.categories SET name = $2 WHERE slug = $1`, [
          slug,
          changes.name,
        ]);
        await q.query(
          `UPDATE channels.channels c
              SET search_text = lower(c.username || ' ' || c.display_name || ' ' || c.title || ' ' ||
                    array_to_string(c.tags, ' ') || ' ' || $2)
            WHERE c.category_slug = $1`,
          [slug, changes.name],
        );
        await audit(q, actorId, 'category.renamed', slug, { from: was.name, to: changes.name });
      }
      if (changes.retired !== undefined && changes.retired !== was.retired) {
        await q.query(
          `UPDATE channels.categories SET retired_at = CASE WHEN $2 THEN now() END WHERE slug = $1`,
          [slug, changes.retired],
        );
        await audit(q, actorId, changes.retired ? 'category.retired' : 'category.restored', slug);
      }
      return this.get(slug, q);
    });
  }
}

async function audit(
  q: Queryable,
  actorId: string,
  action: string,
  slug: string,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await q.query(
    `INSERT INTO channels.audit (actor_id, action, channel_id, target_id, detail)
     VALUES ($1, $2, NULL, $3, $4)`,
    [actorId, action, slug, JSON.stringify(detail)],
  );
}
