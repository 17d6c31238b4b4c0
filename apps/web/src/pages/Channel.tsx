import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import {
  useChannelQuery,
  useChannelStreamQuery,
  useChannelVideosQuery,
  useProfileQuery,
} from '../api/api';
import { isApiError } from '../api/errors';
import { AboutPanel } from '../channel/AboutPanel';
import { ChannelMeta, RoleBadge } from '../channel/ChannelMeta';
import { FollowButton } from '../channel/FollowButton';
import { Avatar } from '../components/Avatar';
import { VideoCard } from '../components/Cards';
import { ErrorState, Spinner } from '../components/ErrorState';
import { since, viewers } from '../format';
import { useNow, useTitle } from '../hooks';
import { MuteButton } from '../notifications/MuteButton';
import { useLivePresence, usePresencePushed } from '../notifications/presence';
import { useSession } from '../store';
import { SubscribeButton } from '../subscriptions/SubscribeButton';
import { NotFound } from './NotFound';

const Player = lazy(() => import('../player/Player'));
const Chat = lazy(() => import('../chat/Chat'));

function PastBroadcasts({ username }: { username: string }) {
  // Polled: a broadcast that just ended shows up here once its recording is kept.
  const { data, error, isLoading, refetch } = useChannelVideosQuery(username, {
    pollingInterval: 15_000,
    refetchOnMountOrArgChange: true,
  });
  if (isLoading) return <Spinner label="Loading past broadcasts" />;
  if (error)
    return (
      <ErrorState
        title="Could not load past broadcasts"
        error={error}
        onRetry={() => void refetch()}
      />
    );
  const items = data?.items ?? [];
  return (
    <section aria-label="Past broadcasts">
      <h2 className="section-title">Past broadcasts</h2>
      {items.length === 0 ? (
        <p className="muted">No past broadcasts yet.</p>
      ) : (
        <div className="grid">
          {items.map((v) => (
            <VideoCard key={v.id} video={v} />
          ))}
        </div>
      )}
    </section>
  );
}

const isNotFound = (e: unknown) =>
  isApiError(e) && (e.status === 404 || e.code.endsWith('NOT_FOUND'));

export default function Channel({ username }: { username: string }) {
  // The channel a 404 was answered for: asking again every few seconds would only repeat it.
  const [gone, setGone] = useState<string | null>(null);
  const stopped = gone === username;
  // Live status, title and viewer count are pushed; the page polls only while the push is away.
  useLivePresence(stopped ? [] : [username]);
  const pushed = usePresencePushed();
  const stream = useChannelStreamQuery(username, {
    pollingInterval: stopped || pushed ? 0 : 10_000,
    refetchOnFocus: !stopped,
  });
  const profile = useProfileQuery(username);
  const { user, checked } = useSession();
  // Waits for the session: whether the caller follows the channel, and their role, depend on it.
  const channel = useChannelQuery(username, { skip: !checked });
  const now = useNow(1000);
  const name = profile.data?.displayName || username;
  useTitle(name);

  // The broadcast this visit was watching, and whether it has ended: the player says so the
  // moment the server closes its playlist; a poll that finds the channel offline says so too.
  const [ended, setEnded] = useState<{ channel: string; id: string } | null>(null);
  const watching = useRef<{ channel: string; id: string } | null>(null);
  const liveId = (stream.data?.live && stream.data.stream?.broadcastId) || null;
  useEffect(() => {
    const was = watching.current;
    if (was && was.channel === username && was.id !== liveId) setEnded(was);
    watching.current = liveId ? { channel: username, id: liveId } : null;
  }, [liveId, username]);
  const endedId = ended?.channel === username ? ended.id : null;

  const notFound =
    [stream.error, profile.error, channel.error].some(isNotFound) && !stream.data?.live;
  useEffect(() => {
    if (notFound) setGone(username);
  }, [notFound, username]);
  if (notFound) {
    return (
      <NotFound title="Channel not found" message={`There is no channel called “${username}”.`} />
    );
  }
  if (stream.isLoading) return <Spinner />;
  if (stream.error && !stream.data) {
    return (
      <ErrorState
        title="Could not load this channel"
        error={stream.error}
        onRetry={() => void stream.refetch()}
      />
    );
  }

  const current = stream.data?.live ? stream.data.stream : null;
  // An ended broadcast is not shown as live, even before the poll has caught up.
  const live = current && current.broadcastId !== endedId ? current : null;
  return (
    <div className={live ? 'channel is-live' : 'channel'}>
      <div className="channel-main">
        {live ? (
          <Suspense fallback={<div className="player skeleton" />}>
            <Player
              key={live.broadcastId}
              src={live.hlsUrl}
              live
              onFatal={() => void stream.refetch()}
              onEnded={() => {
                setEnded({ channel: username, id: live.broadcastId });
                void stream.refetch();
              }}
            />
          </Suspense>
        ) : endedId ? (
          <div className="offline-banner stream-ended" role="status">
            <Avatar name={name} url={profile.data?.avatarUrl} size={72} />
            <div>
              <h1>The stream has ended</h1>
              <p>
                <Link to={`/videos/${endedId}`}>Watch the recording</Link>
              </p>
            </div>
          </div>
        ) : (
          <div className="offline-banner">
            <Avatar name={name} url={profile.data?.avatarUrl} size={72} />
            <div>
              <div className="offline-tag">OFFLINE</div>
              <h1>{name} is offline</h1>
            </div>
          </div>
        )}
        <div className="channel-info">
          {/* Offline, the banner above already shows the avatar. */}
          {live && (
            <Link to={`/u/${username}`} aria-label={`${name}'s profile`}>
              <Avatar name={name} url={profile.data?.avatarUrl} size={48} />
            </Link>
          )}
          <div className="grow">
            {live && <h1 className="stream-title">{live.title || 'Untitled stream'}</h1>}
            <div className="row wrap">
              <Link to={`/u/${username}`} className="streamer" data-testid="streamer-name">
                {name}
              </Link>
              {channel.data && <RoleBadge role={channel.data.role} />}
              {live && (
                <>
                  <span className="badge live static">LIVE</span>
                  <span className="muted small" data-testid="viewer-count">
                    {/* The count can trail a new player by a few seconds; this page is one of them. */}
                    {viewers(Math.max(1, live.viewers))}
                  </span>
                  <span className="muted small">· {since(live.startedAt, now)}</span>
                </>
              )}
            </div>
            {channel.data && <ChannelMeta channel={channel.data} />}
          </div>
          {channel.data && <FollowButton channel={channel.data} />}
          {channel.data && (
            <SubscribeButton channel={username} name={channel.data.displayName || name} />
          )}
          {user && channel.data?.following && <MuteButton channel={username} />}
          {user?.username === username && (
            <Link className="btn ghost sm" to="/dashboard">
              Creator dashboard
            </Link>
          )}
        </div>
        {profile.data?.bio && <p className="bio">{profile.data.bio}</p>}
        {channel.data && <AboutPanel channel={channel.data} />}
        {!live && <PastBroadcasts username={username} />}
      </div>
      <aside className="channel-chat">
        <Suspense fallback={<div className="chat skeleton" />}>
          <Chat key={username} channel={username} displayName={channel.data?.displayName} />
        </Suspense>
      </aside>
    </div>
  );
}
