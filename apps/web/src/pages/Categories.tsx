import { Link } from 'react-router';
import { useCategoriesQuery } from '../api/api';
import { ErrorState, Spinner } from '../components/ErrorState';
import { viewers } from '../format';
import { useTitle } from '../hooks';

/** `/directory`: every category, the most watched first, with what is live in it. */
export default function Categories() {
  useTitle('Categories');
  const { data, error, isLoading, refetch } = useCategoriesQuery(undefined, {
    pollingInterval: 60_000,
    refetchOnFocus: true,
  });
  return (
    <div className="page">
      <div className="page-head">
        <h1>Categories</h1>
      </div>
      {isLoading ? (
        <Spinner label="Loading categories" />
      ) : error && !data ? (
        <ErrorState
          title="Could not load categories"
          error={error}
          onRetry={() => void refetch()}
        />
      ) : (
        <ul className="category-list">
          {data?.items.map((c) => (
            <li key={c.slug}>
              <Link to={`/directory/${c.slug}`} className="category-tile" data-category={c.slug}>
                <span className="category-name">{c.name}</span>
                <span className="muted small">
                  {c.liveChannels > 0
                    ? `${c.liveChannels} ${c.liveChannels === 1 ? 'channel' : 'channels'} live · ${viewers(c.viewers)}`
                    : 'Nobody live'}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
