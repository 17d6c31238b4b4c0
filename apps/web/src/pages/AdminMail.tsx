import { useState } from 'react';
import { Link } from 'react-router';
import type { AdminMail } from '@neon/contracts';
import { useAdminMailQuery } from '../api/email-api';
import { ErrorState, Spinner } from '../components/ErrorState';
import { dateTime } from '../format';

const STATUS: Record<AdminMail['status'], string> = {
  pending: 'Waiting',
  sent: 'Sent',
  failed: 'Failed',
};

/**
 * A mail's text with the links to this site clickable (the reset and
 * confirmation links of a Neon without SMTP); anything else stays text.
 */
function MailText({ text }: { text: string }) {
  const origin = window.location.origin;
  return (
    <pre className="mail-text">
      {text.split(/(\s+)/).map((word, i) =>
        word.startsWith(`${origin}/`) ? (
          <Link key={i} to={word.slice(origin.length)}>
            {word}
          </Link>
        ) : (
          word
        ),
      )}
    </pre>
  );
}

/**
 * Admin → Mail: what identity sent or is sending. Without SMTP_URL the mails
 * go nowhere but the log, and this is where the operator of a local Neon reads
 * them (the reset link of a user who forgot their password).
 */
export function AdminMailLog() {
  const [to, setTo] = useState('');
  const [cursor, setCursor] = useState<string | undefined>();
  const query = to.trim();
  const { data, error, isFetching, refetch } = useAdminMailQuery({
    ...(query ? { to: query } : {}),
    ...(cursor ? { cursor } : {}),
  });
  return (
    <section className="panel wide">
      <input
        className="input"
        type="search"
        placeholder="Recipient’s address"
        aria-label="Mail to"
        value={to}
        onChange={(e) => {
          setTo(e.target.value);
          setCursor(undefined);
        }}
      />
      <button type="button" className="btn ghost" onClick={() => void refetch()}>
        Refresh
      </button>
      {error ? (
        <ErrorState title="Could not load the mail" error={error} onRetry={() => void refetch()} />
      ) : !data ? (
        <Spinner />
      ) : data.items.length === 0 ? (
        <p className="muted">No mail{query ? ` to ${query}` : ''}.</p>
      ) : (
        <ul className="mail-list" aria-busy={isFetching} aria-label="Mail">
          {data.items.map((m) => (
            <li key={m.id} className="mail" data-testid="mail">
              <h3>{m.subject || '(being written)'}</h3>
              <p className="muted small">
                To {m.to} · {dateTime(m.createdAt)} · {STATUS[m.status]}
                {m.attempts > 1 ? ` after ${m.attempts} tries` : ''}
                {m.lastError ? ` · last error: ${m.lastError}` : ''}
              </p>
              {m.text ? (
                <MailText text={m.text} />
              ) : (
                <p className="muted small">Sent by SMTP: its text is not kept.</p>
              )}
            </li>
          ))}
        </ul>
      )}
      {data?.nextCursor && (
        <button
          type="button"
          className="btn ghost"
          onClick={() => setCursor(data.nextCursor ?? undefined)}
        >
          Older mail
        </button>
      )}
    </section>
  );
}
