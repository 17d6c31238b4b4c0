import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ChatForm } from './ChatForm';
import { ChatReplyError } from './messages';

/** Types `body`, sends it, and returns the sentence shown once the room refused it. */
async function refusedWith(reply: Record<string, unknown>, body = 'hello there') {
  const sent: string[] = [];
  render(
    <ChatForm
      channelName="Modular Synth"
      disabled={false}
      send={async (b) => {
        sent.push(b);
        throw new ChatReplyError(String(reply.code), reply);
      }}
    />,
  );
  const input = screen.getByRole<HTMLInputElement>('textbox', { name: 'Chat message' });
  fireEvent.change(input, { target: { value: body } });
  fireEvent.click(screen.getByRole('button', { name: 'Chat' }));
  const alert = await screen.findByRole('alert');
  expect(sent).toEqual([body]);
  // The draft stays, to be sent again once the reason is gone.
  expect(input.value).toBe(body);
  return alert.textContent;
}

describe('ChatForm refused by the room’s modes', () => {
  it('asks a non-follower to follow', async () => {
    expect(
      await refusedWith({
        code: 'CHAT_FOLLOWERS_ONLY',
        detail: 'Followers-only chat: follow this channel to write.',
        following: false,
        minutes: 0,
        waitSeconds: 0,
      }),
    ).toBe('This chat is for followers only. Follow Modular Synth to chat.');
  });

  it('tells a non-follower how long they will wait after following', async () => {
    expect(
      await refusedWith({
        code: 'CHAT_FOLLOWERS_ONLY',
        detail: '',
        following: false,
        minutes: 30,
        waitSeconds: 1_800,
      }),
    ).toBe('This chat is for followers only. Follow Modular Synth to chat in 30 minutes.');
  });

  it('tells a recent follower when they can chat', async () => {
    expect(
      await refusedWith({
        code: 'CHAT_FOLLOWERS_ONLY',
        detail: '',
        following: true,
        minutes: 10,
        waitSeconds: 401,
      }),
    ).toBe('You can chat in 7 minutes (followers-only: 10 minutes).');
  });

  it('says when chat is for subscribers only', async () => {
    expect(
      await refusedWith({ code: 'CHAT_SUBSCRIBERS_ONLY', detail: 'Only subscribers can chat.' }),
    ).toBe('This chat is for subscribers only. Subscribe to Modular Synth to chat.');
  });

  it('keeps the generic sentence for other refusals', async () => {
    expect(await refusedWith({ code: 'CHAT_SLOW_MODE', detail: '' })).toBe(
      'Slow mode is on: wait a little before your next message.',
    );
  });

  it('clears the box once a message is accepted', async () => {
    render(<ChatForm channelName="x" disabled={false} send={async () => ({ id: '1' })} />);
    const input = screen.getByRole<HTMLInputElement>('textbox', { name: 'Chat message' });
    fireEvent.change(input, { target: { value: 'hi' } });
    fireEvent.click(screen.getByRole('button', { name: 'Chat' }));
    await screen.findByDisplayValue('');
    expect(screen.queryByRole('alert')).toBeNull();
  });
});
