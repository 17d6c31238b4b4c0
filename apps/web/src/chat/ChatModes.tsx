import { useEffect, useId, useRef, useState } from 'react';
import type { ModerationAction, RoomSettings } from '@neon/contracts';
import { messageFor } from '../api/errors';
import { minutesText, modeBanner, secondsText } from './messages';

/** Minimum follow ages offered, in minutes, as on Twitch. */
export const FOLLOW_AGES = [0, 10, 30, 60, 1_440, 10_080] as const;
/** Slow mode intervals offered, in seconds (0 = off). */
export const SLOW_INTERVALS = [0, 3, 5, 10, 20, 30, 60, 120] as const;

const followAgeLabel = (m: number) => (m === 0 ? 'Any follower' : minutesText(m));
const slowLabel = (s: number) => (s === 0 ? 'Off' : secondsText(s));

/** A room's current value is offered even when it is not one of the usual choices. */
function withCurrent(choices: readonly number[], current: number): number[] {
  return choices.includes(current) ? [...choices] : [...choices, current].sort((a, b) => a - b);
}

/** What the room's settings become once `action` is applied (as chat itself does). */
export function applyModeAction(settings: RoomSettings, action: ModerationAction): RoomSettings {
  switch (action.action) {
    case 'slow':
      return { ...settings, slowSeconds: action.seconds };
    case 'followers_only':
      return {
        ...settings,
        followersOnly: action.enabled,
        followersOnlyMinutes: action.enabled ? (action.minutes ?? 0) : 0,
      };
    case 'subscribers_only':
      return { ...settings, subscribersOnly: action.enabled };
    case 'delete':
    case 'timeout':
    case 'ban':
    case 'unban':
      return settings;
  }
}

/** The modes in force, for everyone in the room. */
export function ChatModeBanner({ settings }: { settings: RoomSettings }) {
  const modes = modeBanner(settings);
  if (modes.length === 0) return null;
  return (
    <p className="chat-modes" role="status" aria-label="Chat modes">
      {modes.join(' · ')}
    </p>
  );
}

export interface ChatModesProps {
  settings: RoomSettings;
  /** Sends a `moderate` action; rejects with an Error named by the refusal's code. */
  onModerate: (action: ModerationAction) => Promise<unknown>;
}

/**
 * The chat settings menu of the owner, moderators and admins: followers-only
 * (with a minimum follow age), subscribers-only and slow mode. It shows the
 * room's settings as chat last announced them.
 */
export function ChatModes({ settings: room, onModerate }: ChatModesProps) {
  const [open, setOpen] = useState(false);
  // A change on its way shows at once; the room's answer then decides.
  const [pending, setPending] = useState<RoomSettings | null>(null);
  const settings = pending ?? room;
  const busy = pending !== null;
  const [error, setError] = useState<string | null>(null);
  // The follow age used when followers-only is turned on; while on, the room's own.
  const [age, setAge] = useState(settings.followersOnlyMinutes);
  const ref = useRef<HTMLDivElement>(null);
  const id = useId();

  useEffect(() => {
    if (settings.followersOnly) setAge(settings.followersOnlyMinutes);
  }, [settings.followersOnly, settings.followersOnlyMinutes]);

  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (
        e instanceof KeyboardEvent ? e.key === 'Escape' : !ref.current?.contains(e.target as Node)
      )
        setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);

  const change = (action: ModerationAction) => {
    setPending(applyModeAction(settings, action));
    setError(null);
    onModerate(action)
      .catch((err: unknown) =>
        setError(messageFor(err instanceof Error ? err.message : 'CHAT_INVALID_MESSAGE')),
      )
      .finally(() => setPending(null));
  };

  const ages = withCurrent(FOLLOW_AGES, age);
  const intervals = withCurrent(SLOW_INTERVALS, settings.slowSeconds);
  return (
    <div className="chat-modes-menu" ref={ref}>
      <button
        type="button"
        className="btn ghost sm"
        aria-expanded={open}
        aria-controls={`${id}-panel`}
        onClick={() => setOpen((o) => !o)}
      >
        Chat settings
      </button>
      {open && (
        <div className="chat-modes-panel" id={`${id}-panel`} role="group" aria-label="Chat modes">
          <label className="check">
            <input
              type="checkbox"
              checked={settings.followersOnly}
              disabled={busy}
              onChange={(e) =>
                change({ action: 'followers_only', enabled: e.target.checked, minutes: age })
              }
            />
            Followers-only chat
          </label>
          <label className="sub">
            Minimum follow age
            <select
              className="input"
              value={age}
              disabled={busy}
              onChange={(e) => {
                const minutes = Number(e.target.value);
                setAge(minutes);
                if (settings.followersOnly)
                  change({ action: 'followers_only', enabled: true, minutes });
              }}
            >
              {ages.map((m) => (
                <option key={m} value={m}>
                  {followAgeLabel(m)}
                </option>
              ))}
            </select>
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={settings.subscribersOnly}
              disabled={busy}
              onChange={(e) => change({ action: 'subscribers_only', enabled: e.target.checked })}
            />
            Subscribers-only chat
          </label>
          <label>
            Slow mode
            <select
              className="input"
              value={settings.slowSeconds}
              disabled={busy}
              onChange={(e) => change({ action: 'slow', seconds: Number(e.target.value) })}
            >
              {intervals.map((s) => (
                <option key={s} value={s}>
                  {slowLabel(s)}
                </option>
              ))}
            </select>
          </label>
          {error && (
            <p className="field-error" role="alert">
              {error}
            </p>
          )}
        </div>
      )}
    </div>
  );
}
