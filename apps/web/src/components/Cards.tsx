import { useState } from 'react';
import { Link } from 'react-router';
import type { ChannelSummary, LiveStream, Video } from '@neon/contracts';
import { clock, date, since, viewers } from '../format';
import { useNow } from '../hooks';
import { Avatar } from './Avatar';

function Thumb({ url, label }: { url: string | null; label: string }) {
  // A live thumbnail appears some seconds after going live; until then, and if it fails, a placeholder.
  const [failed, setFailed] = useState<string | null>(null);
  return url && failed !== url ? (
    <img className="thumb" src={url} alt="" loading="lazy" onError={() => setFailed(url)} />
  ) : (
    <div className="thumb placeholder" aria-hidden="true">
      {label}
    </div>
  );
}

export function StreamCard({ stream }: { stream: LiveStream }) {
  const now = useNow(1000);
  return (
    <Link className="card" to={`/${stream.channel}`} data-channel={stream.channel}>
      <div className="thumb-wrap">
        <Thumb url={stream.thumbnailUrl} label={stream.channel} />
        <span className="badge live">LIVE</span>
        <span className="badge corner">{since(stream.startedAt, now)}</span>
        <span className="badge bottom">{viewers(stream.viewers)}</span>
      </div>
      <div className="card-body">
        <div className="card-title" title={stream.title}>
          {stream.title || 'Untitled stream'}
        </div>
        <div className="muted small">{stream.channel}</div>
      </div>
    </Link>
  );
}

/** A channel in the directory or search results: its live picture, or who it is when offline. */
export function ChannelCard({ channel }: { channel: ChannelSummary }) {
  const now = useNow(1000);
  const name = channel.displayName || channel.username;
  return (
    <Link className="card" to={`/${channel.username}`} data-channel={channel.username}>
      <div className="thumb-wrap">
        {channel.live ? (
          <>
            <Thumb url={channel.thumbnailUrl} label={channel.username} />
            <span className="badge live">LIVE</span>
            {channel.startedAt && (
              <span className="badge corner">{since(channel.startedAt, now)}</span>
            )}
            <span className="badge bottom">{viewers(channel.viewers)}</span>
          </>
        ) : (
          <div className="thumb placeholder offline-thumb">
            <Avatar name={name} url={channel.avatarUrl} size={64} />
          </div>
        )}
      </div>
      <div className="card-body">
        <div className="card-title" title={channel.title}>
          {channel.live ? channel.title || 'Untitled stream' : name}
        </div>
        <div className="muted small">
          {channel.live ? name : 'Offline'}
          {channel.category && ` · ${channel.category.name}`}
        </div>
        {channel.tags.length > 0 && (
          <div className="card-tags">
            {channel.tags.slice(0, 3).map((t) => (
              <span key={t} className="tag">
                {t}
              </span>
            ))}
          </div>
        )}
      </div>
    </Link>
  );
}

/** A recording's card; `showExpiry` (the owner's list) adds when retention deletes it. */
export function VideoCard({
  video,
  actions,
  showExpiry = false,
}: {
  video: Video;
  actions?: React.ReactNode;
  showExpiry?: boolean;
}) {
  return (
    <div className="card" data-video={video.id}>
      <Link to={`/videos/${video.id}`} className="thumb-wrap">
        <Thumb url={video.thumbnailUrl} label={video.channel} />
        <span className="badge bottom">{clock(video.durationSeconds)}</span>
      </Link>
      <div className="card-body">
        <Link className="card-title" to={`/videos/${video.id}`} title={video.title}>
          {video.title || 'Past broadcast'}
        </Link>
        <div className="row between">
          <span className="muted small">{date(video.startedAt)}</span>
          {actions}
        </div>
        {showExpiry && video.expiresAt && (
          <p className="hint">
            Deletes <time dateTime={video.expiresAt}>{date(video.expiresAt)}</time>
          </p>
        )}
      </div>
    </div>
  );
}
