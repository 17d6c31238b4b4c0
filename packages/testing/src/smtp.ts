import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitFor } from './wait.js';

/** A mail the test server took, parsed. */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
}

export interface TestSmtpServer {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  url: string;
  /** Every mail taken, in order. */
  mails: ReceivedMail[];
  /** How many deliveries were refused so far. */
  refused: number;
  /** Refuses the next `count` deliveries with `code` (451: try again later; 550: never). */
  refuseNext(count: number, code?: number): void;
  /** The first mail to `to` that `match` accepts (any, without one); waits for it. */
  waitForMail(
    to: string,
    options?: { match?: (m: ReceivedMail) => boolean; timeoutMs?: number },
  ): Promise<ReceivedMail>;
  /** The mails received for an address. */
  mailsTo(to: string): ReceivedMail[];
  close(): Promise<void>;
}

const addresses = (a: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) =>
    o.value.map((v) => (v.address ?? '').toLowerCase()),
  );

/**
 * A real SMTP server (the `smtp-server` package) on a loopback port, in the
 * test's process: plain SMTP, no authentication (no STARTTLS offered, so the
 * client does not try a certificate it cannot check).
 */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const mails: ReceivedMail[] = [];
  let refuse = { count: 0, code: 451 };
  const state = { refused: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onMailFrom(_address, _session, callback) {
      if (refuse.count > 0) {
        refuse = { ...refuse, count: refuse.count - 1 };
        state.refused += 1;
        const err = Object.assign(new Error('Try again later (test server)'), {
          responseCode: refuse.code,
        });
        callback(err);
        return;
      }
      callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          mails.push({
            from: addresses(parsed.from)[0] ?? '',
            to: addresses(parsed.to),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
          });
          callback();
        },
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  const mailsTo = (to: string) => mails.filter((m) => m.to.includes(to.toLowerCase()));
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    get refused() {
      return state.refused;
    },
    refuseNext(count, code = 451) {
      refuse = { count, code };
    },
    mailsTo,
    waitForMail(to, options = {}) {
      return waitFor(() => mailsTo(to).find((m) => options.match?.(m) ?? true), {
        timeoutMs: options.timeoutMs ?? 10_000,
        what: `a mail to ${to}`,
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first link in a mail's text that starts with `prefix`. */
export function linkIn(mail: ReceivedMail, prefix: string): string {
  const found = mail.text.split(/\s+/).find((w) => w.startsWith(prefix));
  if (!found) throw new Error(`no ${prefix} link in the mail "${mail.subject}"`);
  return found;
}
