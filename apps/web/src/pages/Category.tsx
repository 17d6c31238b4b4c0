import { Link } from 'react-router';
import { useCategoryStreamsQuery } from '../api/api';
import { isApiError } from '../api/errors';
import { ChannelCard } from '../components/Cards';
import { ErrorState, Spinner } from '../components/ErrorState';
import { viewers } from '../format';
import { useTitle } from '../hooks';
import { useLivePresence, usePresencePushed } from '../notifications/presence';
import { NotFound } from './NotFound';

/** `/directory/:slug`: the category's live channels, most watched first. */
export default function Category({ slug }: { slug: string }) {
  // Starts, ends, titles and viewer counts are pushed; polled only while the push is away.
  const pushed = usePresencePushed();
  const { data, error, isLoading, refetch } = useCategoryStreamsQuery(slug, {
    pollingInterval: pushed ? 0 : 30_000,
    refetchOnFocus: true,
  });
  useLivePresence(
    (data?.items ?? []).map((c) => c.username),
    true,
  );
  useTitle(data?.category.name ?? 'Category');
  if (isApiError(error) && error.status === 404)
    return (
      <NotFound title="Category not found" message={`There is no category called “${slug}”.`} />
    );
  if (isLoading) return <Spinner />;
  if (error && !data)
    return (
      <ErrorState
        title="Could not load this category"
        error={error}
        onRetry={() => void refetch()}
      />
    );
  if (!data) return null;
  const total = data.items.reduce((n, c) => n + c.viewers, 0);
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <Link to="/directory" className="muted small">
            ← Categories
          </Link>
          <h1>{data.category.name}</h1>
        </div>
        {data.items.length > 0 && (
          <span className="muted">
            {data.items.length} {data.items.length === 1 ? 'channel' : 'channels'} live ·{' '}
            {viewers(total)}
          </span>
        )}
      </div>
      {data.items.length === 0 ? (
        <div className="state">
          <h2>Nobody is live in {data.category.name} right now</h2>
          <p className="muted">
            Streamers pick a category in their creator dashboard. Come back later, or browse the
            others.
          </p>
          <Link className="btn ghost" to="/directory">
            All categories
          </Link>
        </div>
      ) : (
        <div className="grid">
          {data.items.map((c) => (
            <ChannelCard key={c.username} channel={c} />
          ))}
        </div>
      )}
    </div>
  );
}
