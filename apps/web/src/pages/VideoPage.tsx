import { lazy, Suspense } from 'react';
import { Link, useParams } from 'react-router';
import { useVideoQuery } from '../api/api';
import { isApiError } from '../api/errors';
import { ErrorState, Spinner } from '../components/ErrorState';
import { clock, dateTime } from '../format';
import { useTitle } from '../hooks';
import { NotFound } from './NotFound';

const Player = lazy(() => import('../player/Player'));

export default function VideoPage() {
  const { id = '' } = useParams();
  const { data, error, isLoading, refetch } = useVideoQuery(id);
  useTitle(data?.title ?? 'Past broadcast');
  if (isLoading) return <Spinner />;
  if (isApiError(error) && error.status === 404) {
    return (
      <NotFound title="Video not found" message="This broadcast does not exist or was deleted." />
    );
  }
  if (error || !data)
    return (
      <ErrorState title="Could not load this video" error={error} onRetry={() => void refetch()} />
    );
  return (
    <div className="page narrow-wide">
      <Suspense fallback={<div className="player skeleton" />}>
        <Player src={data.playlistUrl} live={false} />
      </Suspense>
      <div className="channel-info">
        <div className="grow">
          <h1 className="stream-title">{data.title || 'Past broadcast'}</h1>
          <div className="row wrap muted small">
            <Link to={`/${data.channel}`} className="streamer">
              {data.channel}
            </Link>
            <span>· {dateTime(data.startedAt)}</span>
            <span>· {clock(data.durationSeconds)}</span>
          </div>
        </div>
      </div>
    </div>
  );
}
