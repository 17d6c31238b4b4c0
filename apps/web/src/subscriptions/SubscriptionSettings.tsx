import { useId, useRef, useState } from 'react';
import { Link } from 'react-router';
import type { MySubscription } from '@neon/contracts';
import { errorText } from '../api/errors';
import { useMySubscriptionsQuery, useSetCancelAtPeriodEndMutation } from '../api/payments-api';
import { ErrorState, Spinner } from '../components/ErrorState';
import { date } from '../format';
import { useDialogFocus, useTitle } from '../hooks';
import {
  isEnding,
  isEntitled,
  monthsText,
  periodText,
  perMonth,
  statusText,
  tierName,
} from './words';

function Subscription({
  sub,
  onChanged,
  onFailed,
}: {
  sub: MySubscription;
  onChanged: (message: string) => void;
  onFailed: (message: string) => void;
}) {
  const id = useId();
  const [asking, setAsking] = useState(false);
  const [change, state] = useSetCancelAtPeriodEndMutation();
  const { dialog, opener } = useDialogFocus<HTMLDivElement, HTMLButtonElement>(asking, () =>
    setAsking(false),
  );
  const entitled = isEntitled(sub.status);
  const ending = isEnding(sub);
  const period = periodText(sub);
  const end = sub.currentPeriodEnd ? date(sub.currentPeriodEnd) : null;

  function send(cancel: boolean) {
    void change({ id: sub.id, cancel })
      .unwrap()
      .then(
        () => {
          setAsking(false);
          onChanged(
            cancel
              ? `Your subscription to ${sub.channel} is canceled. It stays active${end ? ` until ${end}` : ' until its paid period ends'}.`
              : `Your subscription to ${sub.channel} renews again${end ? ` on ${end}` : ''}.`,
          );
        },
        (err: unknown) => {
          setAsking(false);
          onFailed(
            `${cancel ? 'Could not cancel' : 'Could not resume'} your subscription to ${sub.channel}: ${errorText(err)}`,
          );
        },
      );
  }

  return (
    <li aria-labelledby={`${id}-name`} data-testid={`subscription-${sub.channel}`}>
      <div className="row between wrap">
        <h2 id={`${id}-name`}>
          <Link to={`/${sub.channel}`}>{sub.channel}</Link>
        </h2>
        <span className={`status-pill ${entitled ? 'active' : 'off'}`}>{statusText(sub)}</span>
      </div>
      <dl className="stats sub-facts">
        <div>
          <dt>Tier</dt>
          <dd>{tierName(sub.tier)}</dd>
        </div>
        <div>
          <dt>Price</dt>
          <dd>{perMonth(sub.price, sub.currency)}</dd>
        </div>
        <div>
          <dt>Subscribed for</dt>
          <dd>{monthsText(sub.months)}</dd>
        </div>
        {period && (
          <div>
            <dt>{sub.status === 'expired' || ending ? 'End' : 'Renewal'}</dt>
            <dd data-testid="subscription-period">{period}</dd>
          </div>
        )}
      </dl>
      {entitled &&
        (asking ? (
          <div className="confirm" role="alertdialog" aria-labelledby={`${id}-q`} ref={dialog}>
            <p id={`${id}-q`}>
              Cancel your subscription to {sub.channel}? It will not renew
              {end
                ? `, and you keep your badge and subscriber chat until ${end}.`
                : '; you keep your badge and subscriber chat until the paid period ends.'}
            </p>
            <div className="row wrap">
              <button
                type="button"
                className="btn danger"
                disabled={state.isLoading}
                onClick={() => send(true)}
              >
                Cancel subscription
              </button>
              <button type="button" className="btn ghost" onClick={() => setAsking(false)}>
                Keep subscription
              </button>
            </div>
          </div>
        ) : ending ? (
          <button
            ref={opener}
            type="button"
            className="btn ghost sm"
            disabled={state.isLoading}
            aria-label={`Resume subscription to ${sub.channel}`}
            onClick={() => send(false)}
          >
            Resume subscription
          </button>
        ) : (
          <button
            ref={opener}
            type="button"
            className="btn ghost sm"
            aria-label={`Cancel subscription to ${sub.channel}…`}
            onClick={() => setAsking(true)}
          >
            Cancel subscription…
          </button>
        ))}
    </li>
  );
}

/** Settings → Subscriptions: the channels the user pays for, each cancelable to the end of its period. */
export default function SubscriptionSettings() {
  useTitle('Subscriptions');
  const { data, error, isLoading, refetch } = useMySubscriptionsQuery(undefined, {
    refetchOnMountOrArgChange: true,
  });
  const [status, setStatus] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  return (
    <div className="page settings">
      <h1 ref={heading} tabIndex={-1}>
        Subscriptions
      </h1>
      <p className="muted">
        The channels you support every month. Canceling stops the renewal: the subscription stays
        active, with its badge and subscriber chat, until the end of the period you paid for.
      </p>
      <p className="hint" role="status">
        {status}
      </p>
      {failure && (
        <div className="alert" role="alert">
          {failure}
        </div>
      )}
      {isLoading ? (
        <Spinner label="Loading your subscriptions" />
      ) : error || !data ? (
        <ErrorState
          title="Could not load your subscriptions"
          error={error}
          onRetry={() => void refetch()}
        />
      ) : data.items.length === 0 ? (
        <section className="panel">
          <p>You are not subscribed to any channel.</p>
          <p className="muted">
            To support a streamer, press Subscribe beside Follow on their channel page.
          </p>
        </section>
      ) : (
        <section className="panel" aria-label="Your subscriptions">
          <ul className="app-list sub-list">
            {data.items.map((sub) => (
              <Subscription
                key={sub.id}
                sub={sub}
                onChanged={(message) => {
                  setFailure(null);
                  setStatus(message);
                }}
                onFailed={(message) => {
                  setStatus('');
                  setFailure(message);
                }}
              />
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
