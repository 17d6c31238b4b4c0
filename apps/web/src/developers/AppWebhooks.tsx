import { useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router';
import type {
  ConsoleEventSubSubscription,
  EventSubStatus,
  EventSubType,
  OAuthApp,
} from '@neon/contracts';
import { useAppWebhooksInfiniteQuery, useDeleteAppWebhookMutation } from '../api/eventsub-api';
import { errorText } from '../api/errors';
import { Confirm } from '../components/Confirm';
import { date, dateTime } from '../format';
import { useDialogFocus } from '../hooks';

/** A subscription's status in a developer's words, with what to do about it. */
export const STATUS_TEXT: Record<
  EventSubStatus,
  { label: string; tone: 'ok' | 'pending' | 'stopped'; explain: string }
> = {
  webhook_callback_verification_pending: {
    label: 'Verifying callback',
    tone: 'pending',
    explain:
      'Neon sent your callback a challenge and waits for it to answer 200 with the challenge as the body.',
  },
  enabled: {
    label: 'Active',
    tone: 'ok',
    explain: 'Your callback answered the challenge: Neon sends it each event.',
  },
  webhook_callback_verification_failed: {
    label: 'Verification failed',
    tone: 'stopped',
    explain:
      'Your callback did not answer the challenge with it, so nothing will be sent. Fix the callback, delete this webhook and subscribe again.',
  },
  notification_failures_exceeded: {
    label: 'Stopped: callback kept failing',
    tone: 'stopped',
    explain:
      'Your callback took no message for too long, so Neon stopped sending. Subscribe again once it answers.',
  },
  authorization_revoked: {
    label: 'Stopped: authorization revoked',
    tone: 'stopped',
    explain:
      'The user whose token made it disconnected your app or lost the right to see these events.',
  },
};

const TYPE_TEXT: Record<EventSubType, string> = {
  'stream.online': 'Stream goes live',
  'stream.offline': 'Stream ends',
  'channel.update': 'Channel settings change',
  'channel.follow': 'New follower',
};

const count = (n: number) => n.toLocaleString('en');

/** "2 active, 1 verifying callback": what the list holds, by status, for the live region. */
function summary(items: ConsoleEventSubSubscription[]): string {
  if (items.length === 0) return 'no webhooks';
  const counts = new Map<string, number>();
  for (const s of items) {
    const label = STATUS_TEXT[s.status].label.toLowerCase();
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return [...counts].map(([label, n]) => `${n} ${label}`).join(', ');
}

function WebhookItem({
  sub,
  clientId,
  onDeleted,
}: {
  sub: ConsoleEventSubSubscription;
  clientId: string;
  onDeleted: (sub: ConsoleEventSubSubscription) => void;
}) {
  const [asking, setAsking] = useState(false);
  const [remove, removal] = useDeleteAppWebhookMutation();
  const confirm = useDialogFocus<HTMLDivElement, HTMLButtonElement>(asking, () => setAsking(false));
  const status = STATUS_TEXT[sub.status];
  const title = `webhook-${sub.id}`;
  const { failingSince, lastFailureAt, lastFailure, waiting } = sub.delivery;
  return (
    <li className="webhook" aria-labelledby={`${title} ${title}-callback`}>
      <div className="row between wrap">
        <h5 id={title}>
          {TYPE_TEXT[sub.type]} <code>{sub.type}</code>
        </h5>
        <span className={`chip status-${status.tone}`}>{status.label}</span>
      </div>
      <p className="hint">
        {status.explain} (<code className="status-code">{sub.status}</code>)
      </p>
      <dl className="webhook-facts">
        <dt>Callback</dt>
        <dd>
          <code id={`${title}-callback`}>{sub.transport.callback}</code>
        </dd>
        <dt>Broadcaster</dt>
        <dd>
          <code>{sub.condition.broadcasterUserId}</code>
        </dd>
        <dt>Subscribed</dt>
        <dd>
          {date(sub.createdAt)} · version {sub.version} · id <code>{sub.id}</code>
        </dd>
        {failingSince && (
          <>
            <dt>Failing since</dt>
            <dd className="warning">{dateTime(failingSince)}</dd>
          </>
        )}
        {lastFailureAt && (
          <>
            <dt>Last failure</dt>
            <dd>
              {dateTime(lastFailureAt)}
              {lastFailure && (
                <>
                  : <span className="failure">{lastFailure}</span>
                </>
              )}
            </dd>
          </>
        )}
        {waiting > 0 && (
          <>
            <dt>Waiting</dt>
            <dd>
              {waiting} {waiting === 1 ? 'message' : 'messages'} not yet taken by the callback
            </dd>
          </>
        )}
      </dl>
      {asking ? (
        <Confirm
          dialog={confirm.dialog}
          question={`Delete this ${sub.type} webhook? Neon stops sending to ${sub.transport.callback} at once and drops what was waiting. This cannot be undone.`}
          yes="Delete webhook"
          busy={removal.isLoading}
          error={removal.error}
          onNo={() => setAsking(false)}
          onYes={() =>
            void remove({ clientId, id: sub.id })
              .unwrap()
              .then(
                () => onDeleted(sub),
                () => undefined,
              )
          }
        />
      ) : (
        <button
          ref={confirm.opener}
          type="button"
          className="btn ghost sm"
          aria-label={`Delete the ${sub.type} webhook to ${sub.transport.callback}…`}
          onClick={() => {
            removal.reset();
            setAsking(true);
          }}
        >
          Delete…
        </button>
      )}
    </li>
  );
}

/** The webhooks shown once the section is open: asked for when it opens, never before. */
function WebhookList({
  app,
  refreshButton,
}: {
  app: OAuthApp;
  refreshButton: React.RefObject<HTMLButtonElement | null>;
}) {
  const [poll, setPoll] = useState(0);
  const list = useAppWebhooksInfiniteQuery(app.clientId, {
    // A callback answers its challenge within seconds: watch it while one is being verified.
    pollingInterval: poll,
    refetchOnMountOrArgChange: true,
  });
  const [said, setSaid] = useState('');
  const refreshing = useRef(false);
  const before = useRef<Map<string, EventSubStatus> | null>(null);
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const first = list.data?.pages[0];
  const stamp = list.fulfilledTimeStamp;

  useEffect(() => {
    if (!list.data) return;
    const all = list.data.pages.flatMap((p) => p.items);
    setPoll(all.some((s) => s.status === 'webhook_callback_verification_pending') ? 3000 : 0);
    const was = before.current;
    before.current = new Map(all.map((s) => [s.id, s.status]));
    if (refreshing.current) {
      refreshing.current = false;
      setSaid(`Refreshed: ${summary(all)}.`);
      return;
    }
    if (!was) return;
    // A change the developer is waiting for (verified, or stopped) is said as it happens.
    const changed = all.filter((s) => was.has(s.id) && was.get(s.id) !== s.status);
    if (changed.length > 0)
      setSaid(
        changed
          .map((s) => `${TYPE_TEXT[s.type]} webhook is now ${STATUS_TEXT[s.status].label}.`)
          .join(' '),
      );
    // Only a new answer is news: keyed on its time, not on the data (the same between answers).
  }, [stamp]);

  let body: React.ReactNode;
  if (list.isLoading) body = <p className="muted">Loading webhooks…</p>;
  else if (!list.data)
    body = (
      <div className="inline-error" role="alert">
        <p>Could not load the webhooks. {errorText(list.error)}</p>
        <button type="button" className="btn sm" onClick={() => void list.refetch()}>
          Try again
        </button>
      </div>
    );
  else if (items.length === 0)
    body = (
      <p className="muted">
        No webhooks yet. Your app subscribes with its own token:{' '}
        <code>POST /public/v1/eventsub/subscriptions</code> (<Link to="/developers/docs">how</Link>
        ).
      </p>
    );
  else
    body = (
      <>
        <ul className="webhook-list">
          {items.map((sub) => (
            <WebhookItem
              key={sub.id}
              sub={sub}
              clientId={app.clientId}
              onDeleted={(gone) => {
                setSaid(`Deleted the ${gone.type} webhook to ${gone.transport.callback}.`);
                setTimeout(() => refreshButton.current?.focus(), 0);
              }}
            />
          ))}
        </ul>
        {list.hasNextPage && (
          <button
            type="button"
            className="btn ghost sm"
            disabled={list.isFetchingNextPage}
            onClick={() => void list.fetchNextPage()}
          >
            {list.isFetchingNextPage ? 'Loading…' : 'Show more'}
          </button>
        )}
      </>
    );

  return (
    <>
      <div className="row between wrap webhook-bar">
        <p className="hint">
          {first ? `${count(first.total)} of at most ${count(first.maxTotal)} subscriptions` : ''}
        </p>
        <button
          ref={refreshButton}
          type="button"
          className="btn ghost sm"
          disabled={list.isFetching}
          aria-label={`Refresh the webhooks of ${app.name}`}
          onClick={() => {
            refreshing.current = true;
            setSaid('Refreshing…');
            void list.refetch();
          }}
        >
          {list.isFetching && !list.isLoading ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      <p className="hint" role="status">
        {said}
      </p>
      {list.data && list.error && (
        <p className="field-error" role="alert">
          Could not refresh: {errorText(list.error)}
        </p>
      )}
      {body}
    </>
  );
}

/**
 * "Webhooks (EventSub)" of one app: a disclosure, so that a console of many
 * apps asks channels only about the one the developer opens.
 */
export function AppWebhooks({ app }: { app: OAuthApp }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const refreshButton = useRef<HTMLButtonElement>(null);
  return (
    <section className="app-webhooks" aria-labelledby={`${id}-title`}>
      <h4 id={`${id}-title`}>
        <button
          type="button"
          className="disclosure"
          aria-expanded={open}
          aria-controls={`${id}-panel`}
          onClick={() => setOpen((o) => !o)}
        >
          Webhooks (EventSub)
        </button>
      </h4>
      {open && (
        <div id={`${id}-panel`}>
          <WebhookList app={app} refreshButton={refreshButton} />
        </div>
      )}
    </section>
  );
}
