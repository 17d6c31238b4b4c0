import { lazy, Suspense, useId, useState } from 'react';
import { Link, useParams } from 'react-router';
import { UpdateVideoRequest, type Video } from '@neon/contracts';
import { useUpdateVideoMutation, useVideoQuery } from '../api/api';
import { errorText, isApiError } from '../api/errors';
import { ErrorState, Spinner } from '../components/ErrorState';
import { Field } from '../components/Field';
import { useSession } from '../store';
import { clock, dateTime } from '../format';
import { useDialogFocus, useTitle } from '../hooks';
import { NotFound } from './NotFound';

const Player = lazy(() => import('../player/Player'));

const titleMax = (UpdateVideoRequest.properties.title as { maxLength?: number }).maxLength ?? 160;

/** The owner renames a recording in place; Escape or Cancel leaves the title as it was. */
function RenameVideo({ video, done }: { video: Video; done: () => void }) {
  const [title, setTitle] = useState(video.title);
  const [rename, { error, isLoading }] = useUpdateVideoMutation();
  const trimmed = title.trim();
  const fieldError =
    isApiError(error) && error.fields.title
      ? error.fields.title
      : error
        ? errorText(error)
        : undefined;
  return (
    <form
      className="row wrap"
      aria-label="Rename this broadcast"
      onSubmit={(e) => {
        e.preventDefault();
        if (!trimmed) return;
        void rename({ id: video.id, title: trimmed })
          .unwrap()
          .then(done, () => undefined);
      }}
    >
      <Field
        label="Title"
        value={title}
        maxLength={titleMax}
        required
        error={fieldError}
        onValue={setTitle}
      />
      <button type="submit" className="btn sm" disabled={isLoading || !trimmed}>
        Save
      </button>
      <button type="button" className="btn ghost sm" onClick={done}>
        Cancel
      </button>
    </form>
  );
}

/**
 * The owner's switch that keeps a recording past the deployment's retention.
 * The box shows the change at once; if the server refuses, it goes back and says why.
 */
function KeepVideo({ video }: { video: Video }) {
  const [update] = useUpdateVideoMutation();
  const [pending, setPending] = useState<boolean | null>(null);
  const [error, setError] = useState<string | null>(null);
  const hint = useId();
  const keep = pending ?? video.keep;

  async function toggle(next: boolean) {
    setPending(next);
    setError(null);
    try {
      await update({ id: video.id, keep: next }).unwrap();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setPending(null);
    }
  }

  return (
    <div className="video-keep">
      <label className="check">
        <input
          type="checkbox"
          checked={keep}
          disabled={pending !== null}
          aria-describedby={video.keep ? hint : undefined}
          onChange={(e) => void toggle(e.target.checked)}
        />
        Keep forever
      </label>
      {video.keep && (
        <p className="hint" id={hint}>
          Kept: never deleted automatically.
        </p>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** Video ids are UUIDs: anything else cannot name a video, so it is not asked for. */
const videoId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export default function VideoPage() {
  const { id = '' } = useParams();
  const wellFormed = videoId.test(id);
  const { data, error, isLoading, refetch } = useVideoQuery(id, { skip: !wellFormed });
  const { user } = useSession();
  const [renaming, setRenaming] = useState(false);
  const { dialog, opener } = useDialogFocus<HTMLDivElement, HTMLButtonElement>(renaming, () =>
    setRenaming(false),
  );
  useTitle(data?.title ?? 'Past broadcast');
  // A malformed id is answered 400 by the server; to the visitor it is simply a video that is not there.
  const missing =
    !wellFormed ||
    (isApiError(error) &&
      (error.status === 404 || error.code === 'LIVE_VIDEO_NOT_FOUND' || error.status === 400));
  if (missing) {
    return <NotFound title="Video not found" message="This video does not exist." />;
  }
  if (isLoading) return <Spinner />;
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
          {renaming ? (
            <div ref={dialog}>
              <RenameVideo video={data} done={() => setRenaming(false)} />
            </div>
          ) : (
            <div className="row wrap">
              <h1 className="stream-title">{data.title || 'Past broadcast'}</h1>
              {user?.username === data.channel && (
                <button
                  ref={opener}
                  type="button"
                  className="btn ghost sm"
                  onClick={() => setRenaming(true)}
                >
                  Rename
                </button>
              )}
            </div>
          )}
          <div className="row wrap muted small">
            <Link to={`/${data.channel}`} className="streamer">
              {data.channel}
            </Link>
            <span>· {dateTime(data.startedAt)}</span>
            <span>· {clock(data.durationSeconds)}</span>
          </div>
          {data.expiresAt && (
            <p className="muted small video-expiry">
              Deleted automatically on{' '}
              <time dateTime={data.expiresAt}>{dateTime(data.expiresAt)}</time>
            </p>
          )}
          {user?.username === data.channel && <KeepVideo video={data} />}
        </div>
      </div>
    </div>
  );
}
