import type { ChatMessage, JoinReply } from '@neon/contracts';

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
