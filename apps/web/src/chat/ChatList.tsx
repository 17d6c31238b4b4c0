import { useLayoutEffect, useRef, useState } from 'react';
import type { ChatBadge, ChatMessage } from '@neon/contracts';
import { time } from '../format';

export interface ChatListProps {
  messages: readonly ChatMessage[];
  /** Show delete / timeout / ban on hover. */
  canModerate: boolean;
  /** The signed-in user, whose own messages get no timeout/ban. */
  selfId?: string | undefined;
  onDelete?: (message: ChatMessage) => void;
  onTimeout?: (message: ChatMessage) => void;
  onBan?: (message: ChatMessage) => void;
  /** A resume could not recover every message since the last one shown. */
  gap?: boolean;
}

/** Within this many pixels of the bottom counts as "following the chat". */
const STICK_PX = 48;

const badgeLabel: Record<ChatBadge, string> = {
  owner: 'Broadcaster',
  moderator: 'Moderator',
  vip: 'VIP',
  subscriber: 'Subscriber',
  admin: 'Admin',
};

/**
 * The message list. Follows new messages while the reader is at the bottom;
 * once they scroll up it stays put and counts what arrived below instead.
 */
export function ChatList({
  messages,
  canModerate,
  selfId,
  onDelete,
  onTimeout,
  onBan,
  gap = false,
}: ChatListProps) {
  const ref = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const lastId = useRef<string | null>(null);
  const [unseen, setUnseen] = useState(0);
  // The message whose moderation buttons are in the Tab order (one at a time, chosen with the
  // arrow keys), so moderating adds one stop to the chat instead of three per message.
  const [current, setCurrent] = useState<string | null>(null);

  /** Focuses a message by its position, or the list itself when there is none. */
  function focusMessage(index: number) {
    const items = ref.current?.querySelectorAll<HTMLElement>('.msg');
    const el = items?.[Math.max(0, Math.min(index, items.length - 1))];
    if (el) {
      setCurrent(el.dataset.messageId ?? null);
      el.focus();
    } else ref.current?.focus();
  }

  function onKeyDown(e: React.KeyboardEvent<HTMLDivElement>) {
    if (!canModerate || !['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
    const items = [...(ref.current?.querySelectorAll<HTMLElement>('.msg') ?? [])];
    if (items.length === 0) return;
    const at = items.findIndex((el) => el.contains(document.activeElement));
    e.preventDefault();
    if (e.key === 'Home') focusMessage(0);
    else if (e.key === 'End') focusMessage(items.length - 1);
    else if (at === -1) focusMessage(e.key === 'ArrowUp' ? items.length - 1 : 0);
    else focusMessage(at + (e.key === 'ArrowUp' ? -1 : 1));
  }

  // The message holding focus and where it sits. A message leaves the list only when the room
  // says it was deleted (by this moderator's Delete or by anyone else), some time after the
  // click; the browser then drops focus to the page, and it is brought back to the message
  // that took the deleted one's place.
  const focusedId = useRef<string | null>(null);
  const shown = useRef(messages);

  function onFocus(e: React.FocusEvent<HTMLDivElement>) {
    const el = (e.target as HTMLElement).closest<HTMLElement>('.msg');
    focusedId.current = el?.dataset.messageId ?? null;
  }

  function onBlur(e: React.FocusEvent<HTMLDivElement>) {
    // A removed message blurs with no next target: keep the place. Moving elsewhere forgets it.
    if (e.relatedTarget) focusedId.current = null;
  }

  useLayoutEffect(() => {
    const before = shown.current;
    shown.current = messages;
    const id = focusedId.current;
    if (id === null || messages.some((m) => m.id === id)) return;
    focusedId.current = null;
    const active = document.activeElement;
    if (active === null || active === document.body)
      focusMessage(before.findIndex((m) => m.id === id));
  }, [messages]);

  useLayoutEffect(() => {
    const el = ref.current;
    const newest = messages[messages.length - 1]?.id ?? null;
    const previous = lastId.current;
    lastId.current = newest;
    if (!el || newest === previous) return;
    if (stick.current) {
      el.scrollTop = el.scrollHeight;
    } else if (newest !== null) {
      const at = previous === null ? -1 : messages.findIndex((m) => m.id === previous);
      setUnseen((n) => n + (at === -1 ? 1 : messages.length - 1 - at));
    }
  }, [messages]);

  function onScroll() {
    const el = ref.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight <= STICK_PX;
    if (stick.current) setUnseen(0);
  }

  function jump() {
    const el = ref.current;
    if (!el) return;
    stick.current = true;
    el.scrollTop = el.scrollHeight;
    setUnseen(0);
  }

  return (
    <div className="chat-list-wrap">
      <div
        className="chat-list"
        ref={ref}
        onScroll={onScroll}
        role="log"
        aria-live="polite"
        aria-label={
          canModerate ? 'Chat messages (arrow keys: choose a message to moderate)' : 'Chat messages'
        }
        tabIndex={0}
        onKeyDown={onKeyDown}
        onFocus={onFocus}
        onBlur={onBlur}
      >
        {gap && (
          <p className="muted small chat-gap" role="status">
            Some earlier messages could not be loaded.
          </p>
        )}
        {messages.length === 0 && (
          <p className="muted small chat-empty">Welcome to the chat! Say hello.</p>
        )}
        {messages.map((m) => (
          <div
            className="msg"
            key={m.id}
            data-message-id={m.id}
            tabIndex={canModerate ? -1 : undefined}
          >
            <span className="msg-time">{time(m.sentAt)}</span>
            {m.sender.badges.map((b) => {
              const months = b === 'subscriber' ? m.sender.subscriberMonths : undefined;
              const tenure = months ? ` for ${months} ${months === 1 ? 'month' : 'months'}` : '';
              return (
                <span key={b} className={`chip ${b}`} title={badgeLabel[b] + tenure}>
                  {badgeLabel[b]}
                  {tenure && <span className="sr-only">{tenure}</span>}
                </span>
              );
            })}
            <span className="msg-author">{m.sender.displayName || m.sender.username}</span>
            <span className="msg-sep">: </span>
            {/* Text node: the body is never parsed as HTML. */}
            <span className="msg-body">{m.body}</span>
            {canModerate && (
              <span className="msg-actions">
                {onDelete && (
                  <button
                    type="button"
                    tabIndex={current === m.id ? 0 : -1}
                    onClick={() => onDelete(m)}
                    aria-label={`Delete message from ${m.sender.username}`}
                  >
                    Delete
                  </button>
                )}
                {m.sender.id !== selfId && !m.sender.badges.includes('owner') && (
                  <>
                    {onTimeout && (
                      <button
                        type="button"
                        tabIndex={current === m.id ? 0 : -1}
                        onClick={() => onTimeout(m)}
                        aria-label={`Time out ${m.sender.username} for 10 minutes`}
                      >
                        Timeout
                      </button>
                    )}
                    {onBan && (
                      <button
                        type="button"
                        className="danger"
                        tabIndex={current === m.id ? 0 : -1}
                        onClick={() => onBan(m)}
                        aria-label={`Ban ${m.sender.username}`}
                      >
                        Ban
                      </button>
                    )}
                  </>
                )}
              </span>
            )}
          </div>
        ))}
      </div>
      {unseen > 0 && (
        <button type="button" className="new-messages" onClick={jump}>
          {unseen} new {unseen === 1 ? 'message' : 'messages'} ↓
        </button>
      )}
    </div>
  );
}
