import nodemailer from 'nodemailer';
import type { Logger } from '@neon/kit';

/** A mail ready to go: what the worker hands a transport. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Where mails go. The one module that knows nodemailer: the rest of the
 * service sees `send`, which resolves once the server took the mail and
 * throws a `MailSendError` when it did not.
 */
export interface MailTransport {
  /** `smtp` sends; `log` writes the mail to the log (no SMTP_URL configured). */
  readonly kind: 'smtp' | 'log';
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** A refused or failed delivery. `permanent`: the server said no for good (a 5xx reply). */
export class MailSendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MailSendError';
  }
}

/** SMTP through nodemailer: STARTTLS when the server offers it; a connection per mail. */
export function smtpTransport(url: string, from: string): MailTransport {
  const transport = nodemailer.createTransport(url, { from });
  return {
    kind: 'smtp',
    async send(mail) {
      try {
        await transport.sendMail({ ...mail });
      } catch (err) {
        const e = err as { responseCode?: number; code?: string; message?: string };
        const code = typeof e.responseCode === 'number' ? e.responseCode : null;
        // The server's own words (not the URL, which may hold a password).
        const reason = code ? `${code} ${e.message ?? ''}`.trim() : (e.code ?? 'send failed');
        throw new MailSendError(reason.slice(0, 500), code !== null && code >= 500, {
          cause: err,
        });
      }
    },
    close() {
      transport.close();
    },
  };
}

/**
 * No SMTP server configured (the embedded shape run locally): each mail is
 * written to the log, links included, so the person running Neon can still
 * reset a password or verify an address; admins also see it at /admin/v1/mail.
 */
export function logTransport(logger: Logger): MailTransport {
  return {
    kind: 'log',
    send(mail) {
      logger.info(
        { mail: { to: mail.to, subject: mail.subject, text: mail.text } },
        'mail written to the log (SMTP_URL is not set)',
      );
      return Promise.resolve();
    },
    close() {},
  };
}
