import { lazy, Suspense, useEffect, useState } from 'react';
import { Link } from 'react-router';
import {
  useChannelStreamQuery,
  useChannelVideosQuery,
  useDeleteVideoMutation,
  useMyStreamQuery,
  useRegenerateStreamKeyMutation,
  useStreamKeyQuery,
  useUpdateMyStreamMutation,
} from '../api/api';
import { errorText, isApiError } from '../api/errors';
import { StepUpPrompt } from '../security/StepUp';
import { VideoCard } from '../components/Cards';
import { ChannelSettings } from '../dashboard/ChannelSettings';
import { RolesPanel } from '../dashboard/RolesPanel';
import { CopyField } from '../components/CopyField';
import { ErrorState, Spinner } from '../components/ErrorState';
import { IngestDisconnectNotice } from '../components/IngestDisconnectNotice';
import { IngestHealthNotice } from '../components/IngestHealthNotice';
import { since } from '../format';
import { useDialogFocus, useNow, useTitle } from '../hooks';
import { useSession } from '../store';
import { RevenuePanel } from '../subscriptions/RevenuePanel';
import { limits, validateTitle } from '../validation';

const Player = lazy(() => import('../player/Player'));

function StreamKeyPanel() {
  const { data, error, isLoading, refetch } = useStreamKeyQuery();
  const [regenerate, regen] = useRegenerateStreamKeyMutation();
  const [confirming, setConfirming] = useState(false);
  const { dialog, opener } = useDialogFocus<HTMLDivElement, HTMLButtonElement>(confirming, () =>
    setConfirming(false),
  );
  return (
    <section className="panel" aria-labelledby="key-title">
      <h2 id="key-title">Stream setup</h2>
      {isLoading ? (
        <Spinner />
      ) : isApiError(error) && error.code === 'AUTH_STEP_UP_REQUIRED' ? (
        <StepUpPrompt onDone={() => void refetch()} />
      ) : error || !data ? (
        <ErrorState
          title="Could not load your stream key"
          error={error}
          onRetry={() => void refetch()}
        />
      ) : (
        <>
          <CopyField label="Server (RTMP URL)" value={data.rtmpUrl} testId="rtmp-url" />
          <CopyField label="Stream key" value={data.streamKey} secret testId="stream-key" />
          <p className="hint">
            Anyone with this key can stream to your channel. Never show it on stream.
          </p>
          {confirming ? (
            <div className="confirm" role="alertdialog" aria-labelledby="regen-q" ref={dialog}>
              <p id="regen-q">
                Generate a new key? The old one stops working at once and a broadcast using it ends.
              </p>
              <div className="row">
                <button
                  type="button"
                  className="btn danger"
                  disabled={regen.isLoading}
                  onClick={() =>
                    void regenerate()
                      .unwrap()
                      .then(
                        () => setConfirming(false),
                        () => undefined,
                      )
                  }
                >
                  Yes, regenerate
                </button>
                <button type="button" className="btn ghost" onClick={() => setConfirming(false)}>
                  Cancel
                </button>
              </div>
              {isApiError(regen.error) && regen.error.code === 'AUTH_STEP_UP_REQUIRED' ? (
                <StepUpPrompt onDone={() => regen.reset()} />
              ) : (
                regen.error && <p className="field-error">{errorText(regen.error)}</p>
              )}
            </div>
          ) : (
            <button
              ref={opener}
              type="button"
              className="btn ghost"
              onClick={() => setConfirming(true)}
            >
              Regenerate key…
            </button>
          )}
          <details className="obs">
            <summary>Set up OBS Studio</summary>
            <ol>
              <li>
                Open <strong>Settings → Stream</strong> and choose the service{' '}
                <strong>Custom…</strong>
              </li>
              <li>
                Paste the <strong>Server</strong> and the <strong>Stream key</strong> from above.
              </li>
              <li>
                In <strong>Settings → Output</strong>: encoder x264 or hardware H.264, rate control
                CBR, 2,500–6,000 kb/s, keyframe interval 1–2 s.
              </li>
              <li>
                Press <strong>Start Streaming</strong>. You are live as soon as the status below
                turns red.
              </li>
            </ol>
          </details>
        </>
      )}
    </section>
  );
}

function TitleForm({ initial }: { initial: string }) {
  const [title, setTitle] = useState(initial);
  const [update, { isLoading, error, isSuccess, reset }] = useUpdateMyStreamMutation();
  const [local, setLocal] = useState<string | undefined>();
  useEffect(() => setTitle(initial), [initial]);
  return (
    <form
      className="title-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const err = validateTitle(title);
        setLocal(err);
        if (!err) void update({ title: title.trim() });
      }}
    >
      <label htmlFor="stream-title">Stream title</label>
      <div className="row">
        <input
          id="stream-title"
          className={`input${local ? ' invalid' : ''}`}
          value={title}
          maxLength={(limits.title.maxLength ?? 140) * 2}
          onChange={(e) => {
            setTitle(e.target.value);
            setLocal(undefined);
            reset();
          }}
          aria-invalid={Boolean(local)}
        />
        <button className="btn" type="submit" disabled={isLoading || title === initial}>
          Save
        </button>
      </div>
      {(local ?? error) && (
        <p className="field-error" role="alert">
          {local ?? errorText(error)}
        </p>
      )}
      {isSuccess && !local && <p className="hint">Saved.</p>}
    </form>
  );
}

function LivePanel({ username }: { username: string }) {
  const { data, error, refetch } = useMyStreamQuery(undefined, { pollingInterval: 3_000 });
  const channel = useChannelStreamQuery(username, { pollingInterval: 5_000, skip: !data?.live });
  const now = useNow(1000);
  if (error && !data)
    return (
      <ErrorState
        title="Could not load your stream status"
        error={error}
        onRetry={() => void refetch()}
      />
    );
  if (!data) return <Spinner />;
  const ingest = data.ingest;
  const hls = channel.data?.stream?.hlsUrl;
  return (
    <section className="panel" aria-labelledby="status-title">
      <div className="row between">
        <h2 id="status-title">Live status</h2>
        <span className={`status-pill ${data.live ? 'on' : 'off'}`} data-testid="live-status">
          {data.live ? 'LIVE' : 'Offline'}
        </span>
      </div>
      {data.live && hls ? (
        <Suspense fallback={<div className="player skeleton" />}>
          <Player src={hls} live preview />
        </Suspense>
      ) : (
        <div className="preview-off muted">
          {data.live ? 'Preparing preview…' : 'Start streaming to see a preview here.'}
        </div>
      )}
      {data.lastDisconnect && <IngestDisconnectNotice disconnect={data.lastDisconnect} />}
      {ingest && (
        <IngestHealthNotice
          bitrateKbps={ingest.bitrateKbps}
          fps={ingest.fps}
          health={ingest.health}
        />
      )}
      {ingest && (
        <dl className="stats">
          <div>
            <dt>Resolution</dt>
            <dd>
              {ingest.width}×{ingest.height}
            </dd>
          </div>
          <div>
            <dt>Frame rate</dt>
            <dd>{Math.round(ingest.fps * 100) / 100} fps</dd>
          </div>
          <div>
            <dt>Bitrate</dt>
            <dd>{Math.round(ingest.bitrateKbps).toLocaleString('en')} kb/s</dd>
          </div>
          <div>
            <dt>Codecs</dt>
            <dd>
              {ingest.videoCodec}
              {ingest.audioCodec ? ` / ${ingest.audioCodec}` : ''}
            </dd>
          </div>
          <div>
            <dt>Uptime</dt>
            <dd>{since(ingest.startedAt, now)}</dd>
          </div>
        </dl>
      )}
      <TitleForm initial={data.title} />
    </section>
  );
}

function Broadcasts({ username }: { username: string }) {
  const { data, error, isLoading, refetch } = useChannelVideosQuery(username, {
    pollingInterval: 30_000,
  });
  const [remove, removal] = useDeleteVideoMutation();
  const [confirm, setConfirm] = useState<string | null>(null);
  return (
    <section className="panel wide" aria-labelledby="vods-title">
      <h2 id="vods-title">Past broadcasts</h2>
      {removal.error && <p className="field-error">{errorText(removal.error)}</p>}
      {isLoading ? (
        <Spinner />
      ) : error ? (
        <ErrorState
          title="Could not load past broadcasts"
          error={error}
          onRetry={() => void refetch()}
        />
      ) : (data?.items.length ?? 0) === 0 ? (
        <p className="muted">Your broadcasts are kept here after you go offline.</p>
      ) : (
        <div className="grid">
          {data?.items.map((v) => (
            <VideoCard
              key={v.id}
              video={v}
              showExpiry
              actions={
                confirm === v.id ? (
                  <span className="row">
                    <button
                      type="button"
                      className="btn danger sm"
                      onClick={() => void remove({ id: v.id, channel: username })}
                    >
                      Delete
                    </button>
                    <button type="button" className="btn ghost sm" onClick={() => setConfirm(null)}>
                      Keep
                    </button>
                  </span>
                ) : (
                  <button
                    type="button"
                    className="btn ghost sm"
                    onClick={() => setConfirm(v.id)}
                    aria-label={`Delete ${v.title || 'broadcast'}`}
                  >
                    Delete
                  </button>
                )
              }
            />
          ))}
        </div>
      )}
    </section>
  );
}

export default function Dashboard() {
  const { user } = useSession();
  useTitle('Creator dashboard');
  if (!user) return null;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Creator dashboard</h1>
        <Link to={`/${user.username}`} className="btn ghost">
          View my channel
        </Link>
      </div>
      <div className="dash">
        <LivePanel username={user.username} />
        <StreamKeyPanel />
        <ChannelSettings />
        <RolesPanel />
        <RevenuePanel />
        <Broadcasts username={user.username} />
      </div>
    </div>
  );
}
