import type { Db, Queryable } from '@neon/db';
import { DrainLoop, type Logger } from '@neon/kit';
import type { SecretBox } from '../mfa/second-factor.js';
import * as queue from './mail.repository.js';
import type { MailKind, MailRow } from './mail.repository.js';
import type { MailContent } from './mail-templates.js';
import { MailSendError, type MailTransport } from './mail-transport.js';

/**
 * Writes a queued mail when it is first taken: null drops it (nobody should
 * get it). It runs in the worker's transaction, so a link token it creates
 * exists only if the mail holding it was stored.
 */
export type Composer = (
  q: Queryable,
  row: MailRow,
) => Promise<{ userId: string; content: MailContent } | null>;

export interface MailWorkerDeps {
  db: Db;
  logger: Logger;
  transport: MailTransport;
  /** Seals bodies at rest: a reset mail holds a live token. */
  box: SecretBox;
  composers: Record<MailKind, Composer>;
  /** The first retry waits this long, each next one twice as long (at most an hour). */
  retrySeconds: number;
  /** Tries before a mail is marked failed. */
  maxAttempts: number;
  intervalMs?: number;
}

const BATCH = 10;
/** Longer than any SMTP exchange: a mail in hand is not taken by another replica meanwhile. */
const LEASE_MS = 2 * 60_000;
const MAX_BACKOFF_MS = 60 * 60_000;

/** The delay before try `attempt + 1`, after `attempt` failed ones. */
export function backoffMs(attempt: number, retrySeconds: number): number {
  return Math.min(retrySeconds * 1000 * 2 ** Math.max(0, attempt - 1), MAX_BACKOFF_MS);
}

/**
 * Sends the mail queue (`identity.mail_queue`) off the request path: on a
 * timer, and at once when a request queued something (`kick`). Replicas
 * share the queue through `FOR UPDATE SKIP LOCKED` and a lease. A refused
 * mail is tried again with exponential backoff; after `maxAttempts` tries, or
 * at once on a permanent (5xx) refusal, it is marked failed and logged.
 */
export class MailWorker {
  private readonly loop: DrainLoop;

  constructor(private readonly deps: MailWorkerDeps) {
    this.loop = new DrainLoop({
      pass: async () => {
        while ((await this.batch()) === BATCH) {
          /* drain */
        }
      },
      intervalMs: deps.intervalMs ?? 1000,
      onError: (err) => deps.logger.error({ err }, 'mail worker failed; will retry'),
    });
  }

  get transportKind(): MailTransport['kind'] {
    return this.deps.transport.kind;
  }

  start(): void {
    this.loop.start();
  }

  kick(): void {
    this.loop.kick();
  }

  /** Sends what is due now; resolves when the queue holds nothing due. */
  drain(): Promise<void> {
    return this.loop.drain();
  }

  private async batch(): Promise<number> {
    // Now and then (about once every few minutes on the timer): the history has a limit.
    if (Math.random() < 0.005) await queue.forgetOld(this.deps.db);
    const rows = await queue.claimDue(this.deps.db, BATCH, LEASE_MS);
    for (const row of rows) await this.deliver(row);
    return rows.length;
  }

  /** The mail as written by its composer (once); null when it was dropped. */
  private async written(row: MailRow): Promise<MailRow | null> {
    if (row.subject !== null && row.content !== null) return row;
    const { db, box } = this.deps;
    return db.tx(async (q) => {
      const compose = this.deps.composers[row.kind] as Composer | undefined;
      // A kind this version does not know (written by a newer replica) waits for one that does.
      if (!compose) throw new Error(`no composer for mail kind ${String(row.kind)}`);
      const mail = await compose(q, row);
      if (!mail) {
        await queue.drop(q, row.id);
        return null;
      }
      const content = box.seal(row.id, JSON.stringify(mail.content));
      await queue.setWritten(q, row.id, {
        userId: mail.userId,
        subject: mail.content.subject,
        content,
      });
      return { ...row, user_id: mail.userId, subject: mail.content.subject, content };
    });
  }

  /**
   * Writes (if not yet) and sends one mail. Any failure, writing included,
   * counts as a try: retried with backoff, marked failed after the last.
   */
  private async deliver(claimed: MailRow): Promise<void> {
    const { db, logger, box, transport } = this.deps;
    let row: MailRow | null = claimed;
    try {
      row = await this.written(claimed);
      if (!row) return;
      const content = JSON.parse(box.open(row.id, row.content!)) as MailContent;
      await transport.send({ to: row.recipient, ...content });
    } catch (err) {
      const mail = row ?? claimed;
      const reason = err instanceof Error ? err.message : String(err);
      const attempt = mail.attempts + 1;
      const permanent = err instanceof MailSendError && err.permanent;
      if (permanent || attempt >= this.deps.maxAttempts) {
        await queue.markFailed(db, mail.id, reason);
        logger.error(
          { mailId: mail.id, kind: mail.kind, userId: mail.user_id, attempts: attempt, reason },
          'mail not delivered; given up',
        );
        return;
      }
      const next = new Date(Date.now() + backoffMs(attempt, this.deps.retrySeconds));
      await queue.markRetry(db, mail.id, reason, next);
      logger.warn(
        { mailId: mail.id, kind: mail.kind, attempt, reason, next },
        'mail not delivered; will retry',
      );
      return;
    }
    await queue.markSent(db, row.id, transport.kind, transport.kind === 'log');
    logger.info({ mailId: row.id, kind: row.kind, attempt: row.attempts + 1 }, 'mail sent');
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    this.deps.transport.close();
  }
}
