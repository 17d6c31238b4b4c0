import { useState } from 'react';
import { useMuteChannelMutation, useNotificationSettingsQuery } from '../api/api';
import { isApiError, messageFor } from '../api/errors';

/**
 * On a followed channel's page: stop (or resume) its went-live notifications
 * without unfollowing. The muted list is the caller's own settings.
 */
export function MuteButton({ channel }: { channel: string }) {
  const { data } = useNotificationSettingsQuery();
  const [mute, { isLoading }] = useMuteChannelMutation();
  const [error, setError] = useState<string | null>(null);
  if (!data) return null;
  const muted = data.mutedChannels.includes(channel.toLowerCase());

  async function toggle() {
    setError(null);
    try {
      await mute({ channel, muted: !muted }).unwrap();
    } catch (err) {
      setError(isApiError(err) ? err.message : messageFor('INTERNAL'));
    }
  }

  return (
    <>
      <button
        type="button"
        className="btn ghost sm"
        aria-pressed={muted}
        disabled={isLoading}
        title={muted ? 'You are not told when this channel goes live' : undefined}
        onClick={() => void toggle()}
      >
        {muted ? 'Unmute go-live alerts' : 'Mute go-live alerts'}
      </button>
      {error && (
        <span className="alert small" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
