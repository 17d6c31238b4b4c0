import { Link } from 'react-router';
import { useStreamsQuery } from '../api/api';
import { StreamCard } from '../components/Cards';
import { ErrorState } from '../components/ErrorState';
import { useTitle } from '../hooks';
import { useLivePresence, usePresencePushed } from '../notifications/presence';
import { useSession } from '../store';

function EmptyState() {
  const { user } = useSession();
  return (
    <div className="empty">
      <div className="empty-art" aria-hidden="true">
        <span className="dot" />
      </div>
      <h2>Nobody is live right now</h2>
      <p className="muted">
        Be the first. Going live takes a minute: {user ? 'open' : 'create an account, open'} your
        creator dashboard, copy the server URL and stream key into OBS (Settings → Stream → Custom),
        and press <strong>Start Streaming</strong>. Your channel shows up here as soon as the video
        arrives.
      </p>
      <div className="row center">
        {user ? (
          <Link className="btn" to="/dashboard">
            Open the creator dashboard
          </Link>
        ) : (
          <>
            <Link className="btn" to="/signup?next=%2Fdashboard">
              Create an account
            </Link>
            <Link className="btn ghost" to="/login?next=%2Fdashboard">
              Log in
            </Link>
          </>
        )}
      </div>
    </div>
  );
}

export function Home() {
  useTitle('Live now');
  const pushed = usePresencePushed();
  // Channels going live or ending, titles and viewer counts are pushed; polled only without the push.
  const { data, error, isLoading, refetch } = useStreamsQuery(undefined, {
    pollingInterval: pushed ? 0 : 15_000,
    refetchOnFocus: true,
  });
  const streams = [...(data?.items ?? [])].sort((a, b) => b.viewers - a.viewers);
  useLivePresence(
    streams.map((s) => s.channel),
    true,
  );
  return (
    <div className="page">
      <div className="page-head">
        <h1>Live channels</h1>
        {streams.length > 0 && (
          <span className="muted">
            {streams.length} {streams.length === 1 ? 'channel' : 'channels'} live
          </span>
        )}
      </div>
      {isLoading ? (
        <div className="grid" aria-busy="true">
          {[0, 1, 2, 3].map((i) => (
            <div key={i} className="card skeleton" />
          ))}
        </div>
      ) : error && !data ? (
        <ErrorState
          title="Could not load live channels"
          error={error}
          onRetry={() => void refetch()}
        />
      ) : streams.length === 0 ? (
        <EmptyState />
      ) : (
        <div className="grid">
          {streams.map((s) => (
            <StreamCard key={s.broadcastId} stream={s} />
          ))}
        </div>
      )}
    </div>
  );
}
