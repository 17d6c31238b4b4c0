import { useState } from 'react';
import { Link } from 'react-router';
import {
  useMuteChannelMutation,
  useNotificationSettingsQuery,
  useUpdateNotificationSettingsMutation,
} from '../api/api';
import { isApiError, messageFor } from '../api/errors';
import {
  browserNotificationsOn,
  browserNotificationsSupported,
  setBrowserNotifications,
} from './browser-notify';

/** The owner's switch for "a channel you follow went live" notifications. */
export function NotificationSettings() {
  const { data, isError, refetch } = useNotificationSettingsQuery();
  const [update, { isLoading }] = useUpdateNotificationSettingsMutation();
  const [mute, muting] = useMuteChannelMutation();
  const [error, setError] = useState<string | null>(null);
  const [browser, setBrowser] = useState(browserNotificationsOn);

  async function toggleBrowser(on: boolean) {
    setError(null);
    const now = await setBrowserNotifications(on);
    setBrowser(now);
    if (on && !now) setError('Your browser does not allow notifications from this site.');
  }

  async function unmute(channel: string) {
    setError(null);
    try {
      await mute({ channel, muted: false }).unwrap();
    } catch (err) {
      setError(isApiError(err) ? err.message : messageFor('INTERNAL'));
    }
  }

  async function toggle(wentLive: boolean) {
    setError(null);
    try {
      await update({ wentLive }).unwrap();
    } catch (err) {
      setError(isApiError(err) ? err.message : messageFor('INTERNAL'));
    }
  }

  return (
    <section className="panel" aria-labelledby="notification-settings">
      <h2 id="notification-settings">Notifications</h2>
      {isError ? (
        <div className="alert" role="alert">
          Could not load your notification settings.{' '}
          <button type="button" className="btn ghost sm" onClick={() => void refetch()}>
            Retry
          </button>
        </div>
      ) : (
        <label className="row">
          <input
            type="checkbox"
            checked={data?.wentLive ?? false}
            disabled={!data || isLoading}
            onChange={(e) => void toggle(e.target.checked)}
          />
          Tell me when a channel I follow goes live
        </label>
      )}
      {browserNotificationsSupported() && (
        <label className="row">
          <input
            type="checkbox"
            checked={browser}
            onChange={(e) => void toggleBrowser(e.target.checked)}
          />
          Also show a browser notification when this tab is in the background
        </label>
      )}
      {data && data.mutedChannels.length > 0 && (
        <>
          <h3>Muted channels</h3>
          <ul className="muted-channels">
            {data.mutedChannels.map((c) => (
              <li key={c} className="row">
                <Link to={`/${c}`}>{c}</Link>
                <button
                  type="button"
                  className="btn ghost sm"
                  disabled={muting.isLoading}
                  onClick={() => void unmute(c)}
                >
                  Unmute {c}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
    </section>
  );
}
