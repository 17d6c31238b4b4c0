import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { Socket, type Channel } from 'phoenix';
import {
  type ChatMessage,
  type JoinReply,
  type MessageDeleted,
  type ModerationAction,
  type RoomSettings,
  type ShoutPayload,
  type UserRestricted,
} from '@neon/contracts';
import { api } from '../api/api';
import { time } from '../format';
import { messageFor } from '../api/errors';
import { useAppDispatch, useSession } from '../store';
import { ChatForm } from './ChatForm';
import { ChatList } from './ChatList';
import { applyModeAction, ChatModeBanner, ChatModes } from './ChatModes';
import {
  applyJoinReply,
  ChatReplyError,
  mergeMessages,
  removeMessage,
  replyCode,
} from './messages';

type Status = 'connecting' | 'open' | 'reconnecting' | 'failed';

const NO_MODES: RoomSettings = {
  slowSeconds: 0,
  followersOnly: false,
  followersOnlyMinutes: 0,
  subscribersOnly: false,
};

/**
 * One room over the Phoenix Channels socket. Each connection uses a fresh
 * single-use socket ticket, so a dropped socket is rebuilt (new ticket) and
 * rejoined with the last seen id: nothing sent meanwhile is lost.
 */
function useChatRoom(channel: string) {
  const dispatch = useAppDispatch();
  const { user, checked } = useSession();
  const userId = user?.id ?? null;
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [status, setStatus] = useState<Status>('connecting');
  const [moderator, setModerator] = useState(false);
  const [joinError, setJoinError] = useState<string | null>(null);
  /** A rejoin came back from further away than the server's history reaches. */
  const [gap, setGap] = useState(false);
  /** Set when this user is timed out (until a time) or banned (until null) in the room. */
  const [restricted, setRestricted] = useState<UserRestricted | null>(null);
  /** The room's modes, from the join reply and every `settings` broadcast after it. */
  const [settings, setSettings] = useState<RoomSettings>(NO_MODES);
  const room = useRef<Channel | null>(null);
  const lastSeen = useRef<string | null>(null);

  useEffect(() => {
    if (!checked) return;
    let disposed = false;
    let socket: Socket | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;

    const open = async () => {
      let token: string | null = null;
      if (userId) {
        token = await dispatch(api.endpoints.socketTicket.initiate())
          .unwrap()
          .then((t) => t.token)
          .catch(() => null);
      }
      if (disposed) return;
      const s = new Socket('/socket', {
        params: token ? { token } : {},
        heartbeatIntervalMs: 25_000,
        // Reconnects are ours (a ticket works once), so phoenix's own timer is parked.
        reconnectAfterMs: () => 3_600_000,
      });
      socket = s;
      const ch = s.channel(`room:${channel}`, () =>
        lastSeen.current ? { last_seen_id: lastSeen.current } : {},
      );
      room.current = ch;
      ch.on('shout', (m: ChatMessage) => {
        lastSeen.current = m.id;
        setMessages((cur) => mergeMessages(cur, [m]));
      });
      ch.on('delete', (d: MessageDeleted) => setMessages((cur) => removeMessage(cur, d.id)));
      ch.on('settings', (next: RoomSettings) => setSettings(next));
      ch.on('user_restricted', (r: UserRestricted) => {
        if (r.userId === userId) setRestricted(r.lifted ? null : r);
      });
      ch.join()
        .receive('ok', (reply: JoinReply) => {
          attempt = 0;
          setStatus('open');
          setJoinError(null);
          setModerator(reply.moderator);
          setSettings(reply.settings);
          if (reply.gap) setGap(true);
          const last = reply.history[reply.history.length - 1];
          if (last && (!lastSeen.current || last.id > lastSeen.current)) lastSeen.current = last.id;
          setMessages((cur) => applyJoinReply(cur, reply));
        })
        .receive('error', (reply: unknown) => {
          setJoinError(replyCode(reply));
          setStatus('failed');
          ch.leave();
        });
      const drop = () => {
        if (disposed || socket !== s) return;
        s.disconnect();
        socket = null;
        room.current = null;
        setStatus('reconnecting');
        attempt += 1;
        retry = setTimeout(() => void open(), Math.min(10_000, 500 * 2 ** attempt));
      };
      s.onError(drop);
      s.onClose(drop);
      s.connect();
    };

    setStatus('connecting');
    setGap(false);
    void open();
    return () => {
      disposed = true;
      clearTimeout(retry);
      room.current?.leave();
      room.current = null;
      socket?.disconnect();
    };
  }, [channel, userId, checked, dispatch]);

  function push(event: string, payload: object): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const ch = room.current;
      if (!ch || status !== 'open') {
        reject(new ChatReplyError('CHAT_NOT_JOINED'));
        return;
      }
      ch.push(event, payload, 10_000)
        .receive('ok', resolve)
        .receive('error', (r: unknown) => reject(new ChatReplyError(replyCode(r), r)))
        .receive('timeout', () => reject(new ChatReplyError('NETWORK')));
    });
  }

  return {
    messages,
    status,
    moderator,
    joinError,
    restricted,
    gap,
    settings,
    send: (body: string, clientId: string) =>
      push('shout', { body, client_id: clientId } satisfies ShoutPayload),
    moderate: (action: ModerationAction) => push('moderate', action),
    /** Shows a mode change the room accepted before its broadcast arrives (which says the same). */
    applyModes: (action: ModerationAction) => setSettings((cur) => applyModeAction(cur, action)),
    removeLocally: (id: string) => setMessages((cur) => removeMessage(cur, id)),
  };
}

export default function Chat({ channel, displayName }: { channel: string; displayName?: string }) {
  const { user } = useSession();
  const chat = useChatRoom(channel);
  const [error, setError] = useState<string | null>(null);

  const act = (action: ModerationAction) => {
    chat.moderate(action).then(
      () => {
        if (action.action === 'delete') chat.removeLocally(action.messageId);
        setError(null);
      },
      (err: Error) => setError(messageFor(err.message)),
    );
  };

  const setMode = (action: ModerationAction) =>
    chat.moderate(action).then(() => chat.applyModes(action));

  return (
    <section className="chat" aria-label="Chat">
      <header className="chat-head">
        <h2>Chat</h2>
        {chat.moderator && chat.status === 'open' && (
          <ChatModes settings={chat.settings} onModerate={setMode} />
        )}
        <span className={`conn ${chat.status}`}>
          {chat.status === 'open'
            ? 'Connected'
            : chat.status === 'failed'
              ? 'Unavailable'
              : chat.status === 'reconnecting'
                ? 'Reconnecting…'
                : 'Connecting…'}
        </span>
      </header>
      {!chat.joinError && <ChatModeBanner settings={chat.settings} />}
      {chat.joinError ? (
        <p className="chat-empty muted" role="alert">
          {messageFor(chat.joinError)}
        </p>
      ) : (
        <ChatList
          messages={chat.messages}
          canModerate={chat.moderator}
          gap={chat.gap}
          selfId={user?.id}
          onDelete={(m) => act({ action: 'delete', messageId: m.id })}
          onTimeout={(m) => act({ action: 'timeout', userId: m.sender.id, seconds: 600 })}
          onBan={(m) => act({ action: 'ban', userId: m.sender.id })}
        />
      )}
      {chat.restricted && (
        <p className="chat-notice" role="status">
          {chat.restricted.until
            ? `You are timed out until ${time(chat.restricted.until)}.`
            : 'You are banned from this chat.'}
        </p>
      )}
      {error && (
        <p className="chat-notice" role="alert">
          {error}
        </p>
      )}
      {user ? (
        <ChatForm
          send={chat.send}
          disabled={chat.status !== 'open'}
          channelName={displayName || channel}
        />
      ) : (
        <p className="chat-form muted small">
          <Link to={`/login?next=%2F${channel}`}>Log in</Link> or{' '}
          <Link to={`/signup?next=%2F${channel}`}>sign up</Link> to chat.
        </p>
      )}
    </section>
  );
}
