import { useState } from 'react';
import { useNotificationSettingsQuery, useUpdateNotificationSettingsMutation } from '../api/api';
import { isApiError, messageFor } from '../api/errors';

/** The owner's switch for "a channel you follow went live" notifications. */
export function NotificationSettings() {
  const { data, isError, refetch } = useNotificationSettingsQuery();
  const [update, { isLoading }] = useUpdateNotificationSettingsMutation();
  const [error, setError] = useState<string | null>(null);

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
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
    </section>
  );
}
