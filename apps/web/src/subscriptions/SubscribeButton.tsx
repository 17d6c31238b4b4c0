import { useEffect, useId, useState } from 'react';
import { Link, useLocation, useSearchParams } from 'react-router';
import type { ChannelSubscriptionOffer, SubscriptionTier } from '@neon/contracts';
import { errorText } from '../api/errors';
import {
  useChannelSubscriptionQuery,
  useCheckoutMutation,
  useMySubscriptionsQuery,
} from '../api/payments-api';
import { Modal } from '../components/Modal';
import { useSession } from '../store';
import { isEntitled, monthsText, periodText, perMonth, tierName } from './words';

/** How long a return from checkout waits for the provider's webhook before saying so. */
export const FINISH_WAIT_MS = 30_000;
const FINISH_POLL_MS = 1_000;

/**
 * Where the browser may be sent to pay: an https page anywhere (the
 * provider's), or a page of this site (the development provider returns the
 * success page itself). Anything else, `javascript:` above all, is refused.
 */
export function checkoutTarget(url: string, here = window.location.href): string | null {
  try {
    const target = new URL(url, here);
    if (target.protocol === 'https:' || target.origin === new URL(here).origin) return target.href;
  } catch {
    // Not a URL at all.
  }
  return null;
}

function SubscribeDialog({
  channel,
  name,
  offer,
  onClose,
}: {
  channel: string;
  name: string;
  offer: ChannelSubscriptionOffer;
  onClose: () => void;
}) {
  const id = useId();
  const { user } = useSession();
  const location = useLocation();
  const [tier, setTier] = useState<SubscriptionTier | undefined>(offer.tiers[0]?.tier);
  const [checkout, state] = useCheckoutMutation();
  const [leaving, setLeaving] = useState(false);
  const [badUrl, setBadUrl] = useState(false);
  // Back on this channel after logging in, with this dialog open again.
  const next = encodeURIComponent(`${location.pathname}?subscribe=1`);

  function submit(e: React.FormEvent) {
    e.preventDefault();
    if (!tier || !user) return;
    setBadUrl(false);
    void checkout({ username: channel, tier })
      .unwrap()
      .then(
        ({ url }) => {
          const target = checkoutTarget(url);
          if (!target) {
            setBadUrl(true);
            return;
          }
          setLeaving(true);
          window.location.assign(target);
        },
        () => undefined,
      );
  }

  return (
    <Modal
      labelledBy={`${id}-title`}
      describedBy={`${id}-what`}
      onClose={onClose}
      className="subscribe-dialog"
    >
      <h2 id={`${id}-title`}>Subscribe to {name}</h2>
      <p id={`${id}-what`} className="muted">
        A monthly subscription supports {name}. Subscribers get a badge in chat and can chat when it
        is for subscribers only. It renews every month until you cancel it in Settings →
        Subscriptions.
      </p>
      {offer.development && (
        <div className="test-checkout" role="note" data-testid="test-checkout">
          <strong>Test checkout.</strong> This Neon server uses the development payment provider: no
          card is asked for and no money moves. The subscription starts as soon as you continue.
        </div>
      )}
      <form onSubmit={submit} noValidate>
        <fieldset className="tiers">
          <legend>Choose a tier</legend>
          {offer.tiers.map((t) => (
            <label key={t.tier} className="tier">
              <input
                type="radio"
                name={`${id}-tier`}
                value={t.tier}
                checked={tier === t.tier}
                onChange={() => setTier(t.tier)}
              />
              <span className="tier-name">{tierName(t.tier)}</span>
              <span className="tier-price">{perMonth(t.price, t.currency)}</span>
            </label>
          ))}
        </fieldset>
        {(state.error ?? badUrl) && (
          <p className="alert" role="alert">
            {badUrl
              ? 'The payment provider answered with an address this page will not open. Nothing was charged.'
              : errorText(state.error)}
          </p>
        )}
        {user ? (
          <div className="row wrap dialog-actions">
            <button type="button" className="btn ghost" onClick={onClose}>
              Not now
            </button>
            <button type="submit" className="btn" disabled={!tier || state.isLoading || leaving}>
              {leaving
                ? 'Opening checkout…'
                : offer.development
                  ? 'Start test subscription'
                  : 'Continue to checkout'}
            </button>
          </div>
        ) : (
          <>
            <p>Log in to subscribe to {name}.</p>
            <div className="row wrap dialog-actions">
              <button type="button" className="btn ghost" onClick={onClose}>
                Not now
              </button>
              <Link className="btn ghost" to={`/signup?next=${next}`}>
                Sign up
              </Link>
              <Link className="btn" to={`/login?next=${next}`}>
                Log in
              </Link>
            </div>
          </>
        )}
      </form>
    </Modal>
  );
}

/** The subscriber's own view: tier, months, the renewal (or end) date and a way to manage it. */
function Subscribed({
  channel,
  mine,
}: {
  channel: string;
  mine: NonNullable<ChannelSubscriptionOffer['mine']>;
}) {
  const list = useMySubscriptionsQuery(undefined, { refetchOnMountOrArgChange: true });
  const sub = list.data?.items.find((s) => s.channel === channel && isEntitled(s.status));
  const period = sub
    ? periodText({
        status: mine.status,
        cancelAtPeriodEnd: sub.cancelAtPeriodEnd,
        currentPeriodEnd: sub.currentPeriodEnd,
      })
    : null;
  return (
    <div className="subscribed">
      <div className="subscribed-text">
        <span className="sub-state" data-testid="subscription-state">
          <span aria-hidden="true">★ </span>Subscribed · {tierName(mine.tier)}
        </span>
        <span className="hint" data-testid="subscription-period">
          {monthsText(mine.months)}
          {period && ` · ${period}`}
        </span>
      </div>
      <Link className="btn ghost sm" to="/settings/subscriptions">
        Manage subscription
      </Link>
    </div>
  );
}

/**
 * The channel page's Subscribe button (not on one's own channel) and, for a
 * subscriber, their subscription. The dialog offers the server's tiers and
 * starts a checkout; coming back from it (`?subscribed=1`), the page asks
 * again until the provider's webhook has made the subscription active.
 */
export function SubscribeButton({ channel, name }: { channel: string; name: string }) {
  const { user, checked } = useSession();
  const own = user?.username === channel;
  const [params, setParams] = useSearchParams();
  const returning = checked && Boolean(user) && params.get('subscribed') === '1';
  const reopen = checked && Boolean(user) && params.get('subscribe') === '1';
  const [gaveUp, setGaveUp] = useState(false);
  const [open, setOpen] = useState(false);
  const [announce, setAnnounce] = useState('');
  const offer = useChannelSubscriptionQuery(channel, {
    skip: !checked || own,
    pollingInterval: returning && !gaveUp ? FINISH_POLL_MS : 0,
    refetchOnMountOrArgChange: true,
  });
  const data = offer.data?.channel === channel ? offer.data : undefined;
  const mine = data?.mine && isEntitled(data.mine.status) ? data.mine : null;

  useEffect(() => {
    if (!returning) return undefined;
    setGaveUp(false);
    const t = setTimeout(() => setGaveUp(true), FINISH_WAIT_MS);
    return () => clearTimeout(t);
  }, [returning]);

  // The webhook is in: say so, and take the marker out of the address (a reload should not wait again).
  useEffect(() => {
    if (!returning || !mine) return;
    setAnnounce(`You are subscribed to ${name} at ${tierName(mine.tier)}.`);
    setParams(
      (p) => {
        p.delete('subscribed');
        return p;
      },
      { replace: true },
    );
  }, [returning, mine, name, setParams]);

  // Back from logging in to subscribe: the dialog opens again, unless they subscribed meanwhile.
  useEffect(() => {
    if (!reopen || !data) return;
    if (!mine && data.available) setOpen(true);
    setParams(
      (p) => {
        p.delete('subscribe');
        return p;
      },
      { replace: true },
    );
  }, [reopen, data, mine, setParams]);

  if (own || !checked) return null;
  const finishing = returning && !mine;
  return (
    <div className="subscribe">
      <p className={finishing ? 'subscribe-status' : 'sr-only'} role="status">
        {finishing
          ? gaveUp
            ? 'Your subscription is not confirmed yet. The payment provider can take a minute: check again shortly.'
            : 'Finishing your subscription…'
          : announce}
      </p>
      {finishing && gaveUp && (
        <button type="button" className="btn ghost sm" onClick={() => void offer.refetch()}>
          Check again
        </button>
      )}
      {mine ? (
        <Subscribed channel={channel} mine={mine} />
      ) : (
        !finishing &&
        data?.available && (
          <button
            type="button"
            className="btn sm subscribe-button"
            aria-haspopup="dialog"
            aria-label={`Subscribe to ${name}`}
            onClick={() => setOpen(true)}
          >
            Subscribe
          </button>
        )
      )}
      {open && data && !mine && (
        <SubscribeDialog
          channel={channel}
          name={name}
          offer={data}
          onClose={() => setOpen(false)}
        />
      )}
    </div>
  );
}
