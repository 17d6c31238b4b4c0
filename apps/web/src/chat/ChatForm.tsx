import { useRef, useState } from 'react';
import { CHAT_MAX_BODY } from '@neon/contracts';
import { messageFor } from '../api/errors';
import { validateChatBody } from '../validation';
import { ChatReplyError, refusalText } from './messages';

export interface ChatFormProps {
  /** Sends one message; rejects with a ChatReplyError (or an Error named by a code). */
  send: (body: string, clientId: string) => Promise<unknown>;
  /** Not connected: nothing can be typed or sent. */
  disabled: boolean;
  /** The channel's name as readers see it, for sentences such as "Follow … to chat". */
  channelName: string;
}

/** What to tell the writer about a refused message. */
function refusedText(err: unknown, channelName: string): string {
  const code = err instanceof Error ? err.message : 'CHAT_INVALID_MESSAGE';
  const reply = err instanceof ChatReplyError ? err.reply : { code };
  return refusalText(reply, channelName) ?? messageFor(code);
}

/**
 * The message box. A refused message stays in it, with the reason above it,
 * so the writer can send it again once the reason is gone.
 */
export function ChatForm({ send, disabled, channelName }: ChatFormProps) {
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  // One id per message typed: sending it again after a lost answer cannot post it twice.
  const clientId = useRef<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);

  const tooLong = validateChatBody(draft);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const body = draft.trim();
    if (!body) {
      setError(messageFor('CHAT_BODY_EMPTY'));
      return;
    }
    if (tooLong) return;
    setSending(true);
    try {
      clientId.current ??= crypto.randomUUID();
      await send(body, clientId.current);
      clientId.current = null;
      setDraft('');
      setError(null);
    } catch (err) {
      setError(refusedText(err, channelName));
    } finally {
      setSending(false);
      inputRef.current?.focus();
    }
  }

  return (
    <form className="chat-form" onSubmit={(e) => void submit(e)} noValidate>
      {(error ?? tooLong) && (
        <p className="field-error" role="alert" id="chat-error">
          {error ?? tooLong}
        </p>
      )}
      <div className="row">
        <input
          ref={inputRef}
          className="input"
          value={draft}
          onChange={(e) => {
            setDraft(e.target.value);
            setError(null);
            clientId.current = null;
          }}
          placeholder="Send a message"
          aria-label="Chat message"
          aria-invalid={Boolean(tooLong)}
          aria-describedby={(error ?? tooLong) ? 'chat-error' : undefined}
          maxLength={CHAT_MAX_BODY * 2}
          autoComplete="off"
          disabled={disabled}
        />
        <button className="btn" type="submit" disabled={sending || disabled || Boolean(tooLong)}>
          Chat
        </button>
      </div>
    </form>
  );
}
