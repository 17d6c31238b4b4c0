import { fireEvent, render, screen } from '@testing-library/react';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatMessage } from '@neon/contracts';
import { ChatList } from './ChatList';
import { applyJoinReply, mergeMessages, removeMessage } from './messages';

// jsdom does no layout: give the list a 100 px viewport and 20 px per message.
const scrollTops = new WeakMap<Element, number>();
beforeAll(() => {
  Object.defineProperties(HTMLElement.prototype, {
    clientHeight: { configurable: true, get: () => 100 },
    scrollHeight: {
      configurable: true,
      get(this: HTMLElement) {
        return this.querySelectorAll('.msg').length * 20;
      },
    },
    scrollTop: {
      configurable: true,
      get(this: HTMLElement) {
        return scrollTops.get(this) ?? 0;
      },
      set(this: HTMLElement, v: number) {
        scrollTops.set(this, Math.max(0, Math.min(v, this.scrollHeight - this.clientHeight)));
      },
    },
  });
});

let seq = 0;
function msg(body: string, sender = 'viewer'): ChatMessage {
  seq += 1;
  return {
    id: `0190${String(seq).padStart(8, '0')}`,
    body,
    sender: { id: `id-${sender}`, username: sender, displayName: sender, badges: [] },
    sentAt: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
  };
}

const many = (n: number) => Array.from({ length: n }, (_, i) => msg(`hello ${i}`));

describe('ChatList', () => {
  it('says how many months a subscriber has subscribed for', () => {
    const m = msg('hi');
    const sub = {
      ...m,
      sender: { ...m.sender, badges: ['subscriber' as const], subscriberMonths: 3 },
    };
    render(<ChatList messages={[sub, msg('hello')]} canModerate={false} />);
    const badge = screen.getByTitle('Subscriber for 3 months');
    expect(badge.textContent).toBe('Subscriber for 3 months');
    expect(badge.classList.contains('subscriber')).toBe(true);
  });

  it('follows new messages while the reader is at the bottom', () => {
    const first = many(10);
    const { rerender } = render(<ChatList messages={first} canModerate={false} />);
    const log = screen.getByRole('log');
    expect(log.scrollTop).toBe(100); // 200 px of messages in a 100 px view
    rerender(<ChatList messages={[...first, msg('new one')]} canModerate={false} />);
    expect(log.scrollTop).toBe(120);
    expect(screen.queryByText(/new message/)).toBeNull();
  });

  it('stops scrolling when the reader scrolls up, counts what arrives, and resumes on request', () => {
    let messages = many(10);
    const { rerender } = render(<ChatList messages={messages} canModerate={false} />);
    const log = screen.getByRole('log');
    log.scrollTop = 20;
    fireEvent.scroll(log);

    messages = mergeMessages(messages, [msg('a'), msg('b')]);
    rerender(<ChatList messages={messages} canModerate={false} />);
    expect(log.scrollTop).toBe(20);
    messages = mergeMessages(messages, [msg('c')]);
    rerender(<ChatList messages={messages} canModerate={false} />);
    expect(log.scrollTop).toBe(20);

    const jump = screen.getByRole('button', { name: /3 new messages/ });
    fireEvent.click(jump);
    expect(log.scrollTop).toBe(messages.length * 20 - 100);
    expect(screen.queryByText(/new messages/)).toBeNull();

    messages = mergeMessages(messages, [msg('d')]);
    rerender(<ChatList messages={messages} canModerate={false} />);
    expect(log.scrollTop).toBe(messages.length * 20 - 100);
  });

  it('resumes following when the reader scrolls back to the bottom by hand', () => {
    let messages = many(10);
    const { rerender } = render(<ChatList messages={messages} canModerate={false} />);
    const log = screen.getByRole('log');
    log.scrollTop = 0;
    fireEvent.scroll(log);
    messages = mergeMessages(messages, [msg('x')]);
    rerender(<ChatList messages={messages} canModerate={false} />);
    expect(screen.getByRole('button', { name: /1 new message/ })).toBeTruthy();
    log.scrollTop = 10_000;
    fireEvent.scroll(log);
    expect(screen.queryByText(/new message/)).toBeNull();
    messages = mergeMessages(messages, [msg('y')]);
    rerender(<ChatList messages={messages} canModerate={false} />);
    expect(log.scrollTop).toBe(messages.length * 20 - 100);
  });

  it('removes a deleted message and leaves the others in order', () => {
    const messages = [msg('keep 1'), msg('spam'), msg('keep 2')];
    const { rerender } = render(<ChatList messages={messages} canModerate={false} />);
    expect(screen.getByText('spam')).toBeTruthy();
    rerender(<ChatList messages={removeMessage(messages, messages[1]!.id)} canModerate={false} />);
    expect(screen.queryByText('spam')).toBeNull();
    const bodies = [...document.querySelectorAll('.msg-body')].map((e) => e.textContent);
    expect(bodies).toEqual(['keep 1', 'keep 2']);
  });

  it('shows the broadcaster, moderator and VIP badges the sender holds in the room', () => {
    const withBadges = (body: string, sender: string, badges: ChatMessage['sender']['badges']) => {
      const m = msg(body, sender);
      return { ...m, sender: { ...m.sender, badges } };
    };
    render(
      <ChatList
        messages={[
          withBadges('welcome', 'streamer', ['owner']),
          withBadges('rules please', 'mod', ['moderator']),
          withBadges('hype', 'friend', ['vip']),
          withBadges('hello', 'viewer', []),
        ]}
        canModerate={false}
      />,
    );
    const badges = [...document.querySelectorAll('.msg')].map((row) =>
      [...row.querySelectorAll('.chip')].map((c) => c.textContent),
    );
    expect(badges).toEqual([['Broadcaster'], ['Moderator'], ['VIP'], []]);
  });

  it('renders bodies as text, never as HTML', () => {
    const evil = msg('<img src=x onerror="alert(1)"><b>bold</b>');
    render(<ChatList messages={[evil]} canModerate={false} />);
    expect(document.querySelector('.msg img, .msg b')).toBeNull();
    expect(screen.getByText('<img src=x onerror="alert(1)"><b>bold</b>')).toBeTruthy();
  });

  it('offers delete, timeout and ban to moderators only, and not timeout/ban on their own messages', () => {
    const other = msg('hi', 'viewer');
    const own = msg('welcome', 'streamer');
    const onDelete = vi.fn();
    const onTimeout = vi.fn();
    const onBan = vi.fn();
    const { rerender } = render(<ChatList messages={[other, own]} canModerate={false} />);
    expect(screen.queryByRole('button', { name: /Delete/ })).toBeNull();

    rerender(
      <ChatList
        messages={[other, own]}
        canModerate
        selfId="id-streamer"
        onDelete={onDelete}
        onTimeout={onTimeout}
        onBan={onBan}
      />,
    );
    expect(screen.getAllByRole('button', { name: /Delete message/ })).toHaveLength(2);
    expect(screen.getAllByRole('button', { name: /Time out/ })).toHaveLength(1);
    fireEvent.click(screen.getByRole('button', { name: 'Delete message from viewer' }));
    fireEvent.click(screen.getByRole('button', { name: /Time out viewer/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Ban viewer' }));
    expect(onDelete).toHaveBeenCalledWith(other);
    expect(onTimeout).toHaveBeenCalledWith(other);
    expect(onBan).toHaveBeenCalledWith(other);
  });

  it('gives moderation one Tab stop: arrow keys choose the message whose buttons are reachable', () => {
    const first = msg('one', 'viewer');
    const second = msg('two', 'viewer');
    render(
      <ChatList
        messages={[first, second]}
        canModerate
        selfId="id-streamer"
        onDelete={vi.fn()}
        onTimeout={vi.fn()}
        onBan={vi.fn()}
      />,
    );
    const buttons = () => [...document.querySelectorAll<HTMLElement>('.msg-actions button')];
    expect(buttons().every((b) => b.tabIndex === -1)).toBe(true);
    const log = screen.getByRole('log');
    fireEvent.keyDown(log, { key: 'ArrowDown' });
    const focused = document.activeElement as HTMLElement;
    expect(focused.dataset.messageId).toBe(first.id);
    const reachable = buttons().filter((b) => b.tabIndex === 0);
    expect(reachable).toHaveLength(3);
    expect(reachable.every((b) => focused.contains(b))).toBe(true);
    fireEvent.keyDown(focused, { key: 'ArrowDown' });
    expect((document.activeElement as HTMLElement).dataset.messageId).toBe(second.id);
  });

  it('moves focus to the next message when the focused one is deleted, whenever the room removes it', () => {
    const [a, b, c] = [msg('one'), msg('two'), msg('three')];
    const onDelete = vi.fn();
    const props = { canModerate: true, selfId: 'id-streamer', onDelete };
    const { rerender } = render(<ChatList messages={[a, b, c]} {...props} />);
    const log = screen.getByRole('log');
    fireEvent.keyDown(log, { key: 'ArrowDown' });
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    const target = document.querySelector<HTMLElement>(`[data-message-id="${b.id}"] button`)!;
    expect(target.tabIndex).toBe(0);
    target.focus();
    fireEvent.click(target);
    expect(onDelete).toHaveBeenCalledWith(b);
    // The room answers later: until then the message and its focus stay.
    expect(document.activeElement).toBe(target);
    rerender(<ChatList messages={[a, c]} {...props} />);
    expect((document.activeElement as HTMLElement).dataset.messageId).toBe(c.id);
    // The last message deleted: focus goes to the one before it.
    rerender(<ChatList messages={[a]} {...props} />);
    expect((document.activeElement as HTMLElement).dataset.messageId).toBe(a.id);
  });
});

describe('ChatList after a resume', () => {
  it('says that earlier messages could not be loaded when the resume had a gap, and nothing otherwise', () => {
    const { rerender } = render(
      <ChatList messages={[msg('after the gap')]} canModerate={false} gap />,
    );
    expect(screen.getByRole('status').textContent).toBe(
      'Some earlier messages could not be loaded.',
    );
    rerender(<ChatList messages={[msg('whole')]} canModerate={false} />);
    expect(screen.queryByText('Some earlier messages could not be loaded.')).toBeNull();
  });
});

describe('mergeMessages', () => {
  it('drops duplicates from a resume and keeps time order', () => {
    const [a, b, c] = [msg('a'), msg('b'), msg('c')];
    const merged = mergeMessages([a, c], [b, c]);
    expect(merged.map((m) => m.body)).toEqual(['a', 'b', 'c']);
  });
});

describe('applyJoinReply', () => {
  it('removes what a resume reports deleted while away, then adds what was missed', () => {
    const [a, b, c, d] = [msg('a'), msg('b'), msg('c'), msg('d')];
    const resumed = applyJoinReply([a, b, c], { history: [d], deleted: [b.id, 'gone-long-ago'] });
    expect(resumed.map((m) => m.body)).toEqual(['a', 'c', 'd']);
    // A first join reports nothing deleted: the list only grows.
    expect(applyJoinReply([a], { history: [a, b], deleted: [] }).map((m) => m.body)).toEqual([
      'a',
      'b',
    ]);
  });
});
