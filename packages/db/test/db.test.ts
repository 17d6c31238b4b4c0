import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgliteDb, migrate, type Db, type Migration } from '@neon/db';
import { dbVariants, waitFor } from '@neon/testing';

const migrations: Migration[] = [
  {
    id: '0001_items',
    up: `CREATE TABLE demo.items (id serial PRIMARY KEY, name text NOT NULL UNIQUE, tags text[] NOT NULL DEFAULT '{}', meta jsonb)`,
  },
  {
    id: '0002_counts',
    up: async (q) => {
      await q.query(`ALTER TABLE demo.items ADD COLUMN n bigint NOT NULL DEFAULT 0`);
    },
  },
];

for (const variant of dbVariants()) {
  describe(`db on ${variant.name}`, { skip: variant.skip }, () => {
    let db: Db;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ db, cleanup } = await variant.open());
    });
    after(async () => cleanup());

    it('applies migrations once and records them', async () => {
      assert.deepEqual((await migrate(db, 'demo', migrations)).applied, [
        '0001_items',
        '0002_counts',
      ]);
      assert.deepEqual((await migrate(db, 'demo', migrations)).applied, []);
    });

    it('applies concurrent migrations once (the lock holds)', async () => {
      const more = [
        ...migrations,
        { id: '0003_extra', up: 'ALTER TABLE demo.items ADD COLUMN extra int' },
      ];
      const results = await Promise.all([migrate(db, 'demo', more), migrate(db, 'demo', more)]);
      assert.deepEqual(
        results.flatMap((r) => r.applied),
        ['0003_extra'],
      );
    });

    it('refuses migrations out of order and unknown applied ones', async () => {
      await assert.rejects(
        migrate(db, 'demo', [migrations[1]!, migrations[0]!]),
        /ascending order/,
      );
      await assert.rejects(migrate(db, 'demo', [migrations[0]!]), /does not know/);
      await assert.rejects(migrate(db, 'Bad-Name', []), /invalid schema/);
    });

    it('round-trips parameters of every common type', async () => {
      const rows = await db.query<{
        id: number;
        name: string;
        tags: string[];
        meta: { a: number };
        n: number;
      }>(
        `INSERT INTO demo.items (name, tags, meta, n) VALUES ($1, $2, $3, $4) RETURNING id, name, tags, meta, n`,
        ['first', ['x', 'y'], JSON.stringify({ a: 1 }), 42],
      );
      assert.equal(rows[0]!.name, 'first');
      assert.deepEqual(rows[0]!.tags, ['x', 'y']);
      assert.deepEqual(rows[0]!.meta, { a: 1 });
      assert.equal(rows[0]!.n, 42);
    });

    it('rolls a failed transaction back and keeps committed ones', async () => {
      await assert.rejects(
        db.tx(async (q) => {
          await q.query(`INSERT INTO demo.items (name) VALUES ('rolled-back')`);
          await q.query(`INSERT INTO demo.items (name) VALUES ('first')`); // unique violation
        }),
      );
      await db.tx(async (q) => {
        await q.query(`INSERT INTO demo.items (name) VALUES ('kept')`);
      });
      const names = (
        await db.query<{ name: string }>(`SELECT name FROM demo.items ORDER BY id`)
      ).map((r) => r.name);
      assert.deepEqual(names, ['first', 'kept']);
    });

    it('keeps queries outside a transaction apart from it', async () => {
      const inside = db.tx(async (q) => {
        await q.query(`INSERT INTO demo.items (name) VALUES ('tx-pending')`);
        await new Promise((r) => setTimeout(r, 30));
        throw new Error('abort');
      });
      const outside = db.query<{ c: number }>(
        `SELECT count(*)::int AS c FROM demo.items WHERE name = 'tx-pending'`,
      );
      await assert.rejects(inside, /abort/);
      assert.equal((await outside)[0]!.c, 0);
    });

    it('answers ping', async () => {
      await db.ping();
    });
  });
}

describe('PGlite on disk', () => {
  it('vacuums on a schedule, so the space of deleted rows is used again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'neon-db-vacuum-'));
    const db = await createPgliteDb({ dataDir: join(dir, 'pg'), vacuumEveryMs: 200 });
    try {
      await db.query('CREATE TABLE churn (id serial PRIMARY KEY, body text NOT NULL)');
      const fill = () =>
        db.query(`INSERT INTO churn (body) SELECT repeat('x', 500) FROM generate_series(1, 2000)`);
      const size = async () =>
        (await db.query<{ n: string }>(`SELECT pg_relation_size('churn')::text AS n`))[0]!.n;
      await fill();
      await db.query('DELETE FROM churn');
      // Once vacuumed, the dead rows are gone (the table is truncated to nothing at its end)...
      await waitFor(async () => (await size()) === '0', { what: 'a vacuum', timeoutMs: 10_000 });
      // ...so a second batch of the same size takes no more space than the first did.
      await fill();
      const afterSecond = Number(await size());
      await db.query('DELETE FROM churn');
      await waitFor(async () => (await size()) === '0', { what: 'a second vacuum' });
      assert.ok(afterSecond > 0);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
