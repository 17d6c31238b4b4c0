import type { Queryable } from '@neon/db';
import { uuidv7 } from '@neon/kit';

/** What a queued mail is about; the worker writes it with the composer of its kind. */
export type MailKind =
  | 'password-reset'
  | 'password-changed'
  | 'verify-email'
  | 'new-device'
  | 'change-email'
  | 'email-change-notice'
  | 'account-locked';

/** What a mail says beyond its recipient's account: a new sign-in's browser and time, a lock's end (`at`) and what caused it, an address change's new address (masked). */
export interface MailDetail {
  device?: string;
  at?: string;
  newAddress?: string;
  lockedBy?: LockCause;
}

/** Wrong passwords lock the account; wrong codes after a right password lock its second factor. */
export type LockCause = 'password' | 'second-factor';

export interface MailRow {
  id: string;
  kind: MailKind;
  recipient: string;
  user_id: string | null;
  detail: MailDetail | null;
  subject: string | null;
  content: string | null;
  status: 'pending' | 'sent' | 'failed';
  transport: string | null;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

const COLUMNS = `id, kind, recipient, user_id, detail, subject, content, status, transport, attempts,
  next_attempt_at, last_error, created_at, sent_at`;

/** Queues a mail to be written and sent by the worker. */
export async function enqueueMail(
  q: Queryable,
  mail: {
    id: string;
    kind: MailKind;
    recipient: string;
    userId: string | null;
    detail?: MailDetail;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO identity.mail_queue (id, kind, recipient, user_id, detail)
     VALUES ($1, $2, $3, $4, $5)`,
    [
      mail.id,
      mail.kind,
      mail.recipient,
      mail.userId,
      mail.detail ? JSON.stringify(mail.detail) : null,
    ],
  );
}

/** Wrong guesses just locked an account: its owner is told by mail, once per lock. */
export async function enqueueLockMail(
  q: Queryable,
  user: { id: string; email: string },
  until: Date,
  lockedBy: LockCause,
): Promise<void> {
  await enqueueMail(q, {
    id: uuidv7(),
    kind: 'account-locked',
    recipient: user.email,
    userId: user.id,
    detail: { at: until.toISOString(), lockedBy },
  });
}

/**
 * Takes up to `limit` due mails for this worker: their next attempt moves
 * `leaseMs` ahead, so another replica (or this one after a crash) sends them
 * only once that lease ran out.
 */
export async function claimDue(q: Queryable, limit: number, leaseMs: number): Promise<MailRow[]> {
  return q.query<MailRow>(
    `UPDATE identity.mail_queue SET next_attempt_at = now() + $2 * interval '1 millisecond'
      WHERE id IN (SELECT id FROM identity.mail_queue
                    WHERE status = 'pending' AND next_attempt_at <= now()
                    ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING ${COLUMNS}`,
    [limit, leaseMs],
  );
}

/** The mail as written by its composer (once; retries send the same). */
export async function setWritten(
  q: Queryable,
  id: string,
  mail: { userId: string; subject: string; content: string },
): Promise<void> {
  await q.query(
    `UPDATE identity.mail_queue SET user_id = $2, subject = $3, content = $4 WHERE id = $1`,
    [id, mail.userId, mail.subject, mail.content],
  );
}

/** A mail nobody should get (an address no account has, a verification no longer due). */
export async function drop(q: Queryable, id: string): Promise<void> {
  await q.query(`DELETE FROM identity.mail_queue WHERE id = $1`, [id]);
}

/** `keepContent`: only mails written to the log keep their body, for the admin list. */
export async function markSent(
  q: Queryable,
  id: string,
  transport: string,
  keepContent: boolean,
): Promise<void> {
  await q.query(
    `UPDATE identity.mail_queue SET status = 'sent', sent_at = now(), attempts = attempts + 1,
            transport = $2, content = CASE WHEN $3 THEN content ELSE NULL END, last_error = NULL
      WHERE id = $1`,
    [id, transport, keepContent],
  );
}

export async function markRetry(
  q: Queryable,
  id: string,
  error: string,
  next: Date,
): Promise<void> {
  await q.query(
    `UPDATE identity.mail_queue SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3
      WHERE id = $1`,
    [id, error, next],
  );
}

/** Given up on: the body (and the link in it) is not kept. */
export async function markFailed(q: Queryable, id: string, error: string): Promise<void> {
  await q.query(
    `UPDATE identity.mail_queue SET status = 'failed', attempts = attempts + 1, last_error = $2,
            content = NULL
      WHERE id = $1`,
    [id, error],
  );
}

/** Sent and failed mails are kept 30 days (for the admin list), then deleted. */
export async function forgetOld(q: Queryable): Promise<void> {
  await q.query(
    `DELETE FROM identity.mail_queue
      WHERE status <> 'pending' AND created_at < now() - interval '30 days'`,
  );
}

/** Newest first, keyset-paginated on the time-ordered id. */
export async function listMail(
  q: Queryable,
  options: { to?: string | undefined; before?: string | undefined; limit: number },
): Promise<MailRow[]> {
  return q.query<MailRow>(
    `SELECT ${COLUMNS} FROM identity.mail_queue
      WHERE ($1::text IS NULL OR recipient = $1) AND ($2::uuid IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3`,
    [options.to?.trim().toLowerCase() ?? null, options.before ?? null, options.limit],
  );
}
