import type { ChatMessage, FollowersOnlyRefusal, JoinReply, RoomSettings } from '@neon/contracts';

/** The most messages a room keeps on screen; older ones scroll out of memory. */
export const KEEP = 300;

/**
 * Adds messages (history on join, resume after a reconnect, live shouts),
 * dropping duplicates by id and keeping the server's time order.
 */
export function mergeMessages(
  current: readonly ChatMessage[],
  incoming: readonly ChatMessage[],
): ChatMessage[] {
  if (incoming.length === 0) return current as ChatMessage[];
  const seen = new Set(current.map((m) => m.id));
  const fresh = incoming.filter((m) => !seen.has(m.id));
  if (fresh.length === 0) return current as ChatMessage[];
  const last = current[current.length - 1];
  const merged = [...current, ...fresh];
  // Ids are time-ordered: only sort when something arrived out of order.
  if (last && fresh.some((m) => m.id < last.id))
    merged.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return merged.length > KEEP ? merged.slice(-KEEP) : merged;
}

export function removeMessage(current: readonly ChatMessage[], id: string): ChatMessage[] {
  return current.filter((m) => m.id !== id);
}

/**
 * Applies a join reply: drops the messages it reports deleted (moderators may
 * have removed some while a reconnecting client was away), then adds its
 * history.
 */
export function applyJoinReply(
  current: readonly ChatMessage[],
  reply: Pick<JoinReply, 'history' | 'deleted'>,
): ChatMessage[] {
  let kept = current;
  if (reply.deleted.length > 0) {
    const gone = new Set(reply.deleted);
    kept = current.filter((m) => !gone.has(m.id));
  }
  return mergeMessages(kept, reply.history);
}

/** What the chat service answers an error reply with, as a code. */
export function replyCode(response: unknown): string {
  if (typeof response === 'object' && response !== null) {
    const r = response as { code?: unknown; reason?: unknown };
    if (typeof r.code === 'string') return r.code;
    if (typeof r.reason === 'string') return r.reason;
  }
  return 'CHAT_INVALID_MESSAGE';
}

/**
 * A refused `push`: the code, plus the whole error reply, which for some
 * codes carries what the sentence shown needs (followers-only's wait).
 */
export class ChatReplyError extends Error {
  readonly reply: unknown;
  constructor(code: string, reply: unknown = { code }) {
    super(code);
    this.name = 'ChatReplyError';
    this.reply = reply;
  }
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** A mode's duration in minutes as people say it: "10 minutes", "1 hour", "1 week". */
export function minutesText(minutes: number): string {
  if (minutes > 0 && minutes % 10_080 === 0) return plural(minutes / 10_080, 'week');
  if (minutes > 0 && minutes % 1_440 === 0) return plural(minutes / 1_440, 'day');
  if (minutes > 0 && minutes % 60 === 0) return plural(minutes / 60, 'hour');
  return plural(minutes, 'minute');
}

/** A wait, rounded up to the unit that reads naturally ("45 seconds", "7 minutes", "3 hours"). */
export function waitText(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return plural(s, 'second');
  if (s < 3_600) return plural(Math.ceil(s / 60), 'minute');
  if (s < 172_800) return plural(Math.ceil(s / 3_600), 'hour');
  return plural(Math.ceil(s / 86_400), 'day');
}

/** Slow mode's interval: "30 seconds", "2 minutes". */
export function secondsText(seconds: number): string {
  return seconds % 60 === 0 && seconds >= 60
    ? minutesText(seconds / 60)
    : plural(seconds, 'second');
}

/** The room's modes as a reader is told them, one phrase per mode that is on. */
export function modeBanner(settings: RoomSettings): string[] {
  const modes: string[] = [];
  if (settings.subscribersOnly) modes.push('Subscribers-only chat');
  if (settings.followersOnly)
    modes.push(
      settings.followersOnlyMinutes > 0
        ? `Followers-only chat (${minutesText(settings.followersOnlyMinutes)})`
        : 'Followers-only chat',
    );
  if (settings.slowSeconds > 0) modes.push(`Slow mode (${secondsText(settings.slowSeconds)})`);
  return modes;
}

function isFollowersOnlyRefusal(reply: unknown): reply is FollowersOnlyRefusal {
  if (typeof reply !== 'object' || reply === null) return false;
  const r = reply as Partial<FollowersOnlyRefusal>;
  return (
    r.code === 'CHAT_FOLLOWERS_ONLY' &&
    typeof r.following === 'boolean' &&
    typeof r.minutes === 'number' &&
    typeof r.waitSeconds === 'number'
  );
}

/**
 * The sentence for a message the room refused because of its modes, naming
 * what to do about it; null for other refusals (the generic sentence serves).
 */
export function refusalText(reply: unknown, channelName: string): string | null {
  const code = replyCode(reply);
  if (code === 'CHAT_SUBSCRIBERS_ONLY')
    return `This chat is for subscribers only. Subscribe to ${channelName} to chat.`;
  if (code !== 'CHAT_FOLLOWERS_ONLY') return null;
  if (!isFollowersOnlyRefusal(reply)) return `This chat is for followers only.`;
  const { following, minutes, waitSeconds } = reply;
  const rule = minutes > 0 ? ` (followers-only: ${minutesText(minutes)})` : '';
  if (!following)
    return minutes > 0
      ? `This chat is for followers only. Follow ${channelName} to chat in ${minutesText(minutes)}.`
      : `This chat is for followers only. Follow ${channelName} to chat.`;
  // A follow the room has not heard of for long enough yet.
  return waitSeconds > 0
    ? `You can chat in ${waitText(waitSeconds)}${rule}.`
    : `You can chat in a moment${rule}.`;
}
