import { Link, useSearchParams } from 'react-router';
import { useSearchQuery } from '../api/api';
import { ChannelCard } from '../components/Cards';
import { ErrorState, Spinner } from '../components/ErrorState';
import { viewers } from '../format';
import { useTitle } from '../hooks';

/** `/search?q=`: every channel and category matching, live channels first. */
export default function Search() {
  const [params] = useSearchParams();
  const q = (params.get('q') ?? '').trim().slice(0, 100);
  useTitle(q ? `Search: ${q}` : 'Search');
  const { data, error, isFetching, refetch } = useSearchQuery(q, { skip: !q });

  let body: React.ReactNode;
  if (!q) body = <p className="muted">Type a channel, a tag or a category in the search box.</p>;
  else if (error && !data)
    body = <ErrorState title="Search did not work" error={error} onRetry={() => void refetch()} />;
  else if (!data || (isFetching && data === undefined)) body = <Spinner label="Searching" />;
  else if (data.channels.length === 0 && data.categories.length === 0)
    body = (
      <div className="state">
        <h2>No results for “{q}”</h2>
        <p className="muted">Check the spelling, or try a shorter word or a tag.</p>
        <Link className="btn ghost" to="/directory">
          Browse categories
        </Link>
      </div>
    );
  else
    body = (
      <>
        {data.categories.length > 0 && (
          <section aria-labelledby="cat-results">
            <h2 id="cat-results" className="section-title">
              Categories
            </h2>
            <ul className="category-list">
              {data.categories.map((c) => (
                <li key={c.slug}>
                  <Link to={`/directory/${c.slug}`} className="category-tile">
                    <span className="category-name">{c.name}</span>
                    <span className="muted small">
                      {c.liveChannels > 0
                        ? `${c.liveChannels} live · ${viewers(c.viewers)}`
                        : 'Nobody live'}
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          </section>
        )}
        {data.channels.length > 0 && (
          <section aria-labelledby="channel-results">
            <h2 id="channel-results" className="section-title">
              Channels
            </h2>
            <div className="grid">
              {data.channels.map((c) => (
                <ChannelCard key={c.username} channel={c} />
              ))}
            </div>
          </section>
        )}
      </>
    );

  return (
    <div className="page">
      <div className="page-head">
        <h1>{q ? `Results for “${q}”` : 'Search'}</h1>
      </div>
      {body}
    </div>
  );
}
