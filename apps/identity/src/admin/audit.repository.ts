import type { AuditAction, AuditEntry } from '@neon/contracts';
import type { Queryable } from '@neon/db';
import { uuidv7 } from '@neon/kit';

interface AuditRow {
  id: string;
  actor_id: string | null;
  actor_username: string;
  action: string;
  target_id: string | null;
  target_username: string | null;
  detail: Record<string, unknown>;
  at: Date;
}

export async function writeAudit(
  q: Queryable,
  entry: {
    actor: { id: string; username: string } | null;
    action: AuditAction;
    target: { id: string; username: string } | null;
    detail?: Record<string, unknown>;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO identity.audit_log (id, actor_id, actor_username, action, target_id, target_username, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      uuidv7(),
      entry.actor?.id ?? null,
      entry.actor?.username ?? 'command line',
      entry.action,
      entry.target?.id ?? null,
      entry.target?.username ?? null,
      JSON.stringify(entry.detail ?? {}),
    ],
  );
}

export async function listAudit(
  q: Queryable,
  options: { targetId?: string | undefined; before?: string | undefined; limit: number },
): Promise<AuditEntry[]> {
  const rows = await q.query<AuditRow>(
    `SELECT id, actor_id, actor_username, action, target_id, target_username, detail, at
       FROM identity.audit_log
      WHERE ($1::uuid IS NULL OR target_id = $1) AND ($2::uuid IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3`,
    [options.targetId ?? null, options.before ?? null, options.limit],
  );
  return rows.map((r) => ({
    id: r.id,
    actorId: r.actor_id,
    actorUsername: r.actor_username,
    action: r.action,
    targetId: r.target_id,
    targetUsername: r.target_username,
    detail: r.detail,
    at: r.at.toISOString(),
  }));
}
