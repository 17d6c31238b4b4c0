import type { AdminMail, AdminMailList } from '@neon/contracts';
import type { Db } from '@neon/db';
import type { SecretBox } from '../mfa/second-factor.js';
import { listMail, type MailRow } from './mail.repository.js';
import type { MailContent } from './mail-templates.js';

/** The mail queue as the admin API shows it. */
export class MailService {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
  ) {}

  private view(row: MailRow): AdminMail {
    // Only a mail written to the log keeps its body: the operator of a Neon
    // without SMTP follows its links from here.
    const text =
      row.transport === 'log' && row.content
        ? (JSON.parse(this.box.open(row.id, row.content)) as MailContent).text
        : null;
    return {
      id: row.id,
      to: row.recipient,
      kind: row.kind,
      subject: row.subject ?? '',
      text,
      status: row.status,
      attempts: row.attempts,
      lastError: row.last_error,
      createdAt: row.created_at.toISOString(),
      sentAt: row.sent_at?.toISOString() ?? null,
    };
  }

  async list(options: {
    to?: string | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  }): Promise<AdminMailList> {
    const limit = options.limit ?? 50;
    const rows = await listMail(this.db, {
      to: options.to,
      before: options.cursor,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => this.view(r)),
      nextCursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
    };
  }
}
