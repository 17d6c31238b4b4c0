import { useRevenueQuery } from '../api/payments-api';
import { ErrorState, Spinner } from '../components/ErrorState';
import { date, money, month } from '../format';
import { tierName } from './words';

const TIERS = ['tier1', 'tier2', 'tier3'] as const;

/** The dashboard's "Subscribers and revenue": subscribers by tier, this month's share, payouts. */
export function RevenuePanel() {
  const { data, error, isLoading, refetch } = useRevenueQuery(undefined, {
    refetchOnMountOrArgChange: true,
  });
  const total = data ? TIERS.reduce((n, t) => n + data.subscribers[t], 0) : 0;
  return (
    <section className="panel wide revenue" aria-labelledby="revenue-title">
      <h2 id="revenue-title">Subscribers and revenue</h2>
      {isLoading ? (
        <Spinner label="Loading subscribers and revenue" />
      ) : error || !data ? (
        <ErrorState
          title="Could not load your subscribers and revenue"
          error={error}
          onRetry={() => void refetch()}
        />
      ) : (
        <>
          <h3 id="subscribers-title">Subscribers</h3>
          {total === 0 ? (
            <p className="muted" data-testid="no-subscribers">
              No subscribers yet. Viewers subscribe with the Subscribe button on your channel page.
            </p>
          ) : (
            <dl className="stats" aria-labelledby="subscribers-title" data-testid="subscribers">
              {TIERS.map((t) => (
                <div key={t}>
                  <dt>{tierName(t)}</dt>
                  <dd>{data.subscribers[t].toLocaleString('en')}</dd>
                </div>
              ))}
              <div>
                <dt>Total</dt>
                <dd>{total.toLocaleString('en')}</dd>
              </div>
            </dl>
          )}

          <h3 id="earnings-title">Revenue</h3>
          <dl className="stats" aria-labelledby="earnings-title">
            <div>
              <dt>This month</dt>
              <dd data-testid="revenue-this-month">
                {money(data.revenueThisMonth, data.currency)}
              </dd>
            </div>
            <div>
              <dt>Not yet paid out</dt>
              <dd data-testid="revenue-balance">{money(data.balance, data.currency)}</dd>
            </div>
          </dl>
          <p className="hint">
            Your share of this month’s subscription payments, after the platform’s share and any
            refunds, in {data.currency.toUpperCase()}.
          </p>

          <h3 id="payouts-title">Payouts</h3>
          {data.payouts.length === 0 ? (
            <p className="muted" data-testid="no-payouts">
              No payouts yet. What you earn in a month is paid out after the month ends.
            </p>
          ) : (
            <div className="table-wrap">
              <table className="cards-sm" aria-labelledby="payouts-title">
                <thead>
                  <tr>
                    <th scope="col">Month</th>
                    <th scope="col">Amount</th>
                    <th scope="col">Paid on</th>
                  </tr>
                </thead>
                <tbody>
                  {data.payouts.map((p) => (
                    <tr key={p.month}>
                      <td data-label="Month">{month(p.month)}</td>
                      <td data-label="Amount">{money(p.amount, p.currency)}</td>
                      <td data-label="Paid on">{date(p.paidAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
