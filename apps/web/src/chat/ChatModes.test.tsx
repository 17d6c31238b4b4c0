import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useState } from 'react';
import type { ModerationAction, RoomSettings } from '@neon/contracts';
import { applyModeAction, ChatModeBanner, ChatModes } from './ChatModes';

const off: RoomSettings = {
  slowSeconds: 0,
  followersOnly: false,
  followersOnlyMinutes: 0,
  subscribersOnly: false,
};

/**
 * The menu with a room behind it: each action is recorded, and the room's
 * settings change as chat would announce them.
 */
function Room({ initial = off, sent }: { initial?: RoomSettings; sent: ModerationAction[] }) {
  const [settings, setSettings] = useState(initial);
  return (
    <>
      <ChatModes
        settings={settings}
        onModerate={async (action) => {
          sent.push(action);
          setSettings((cur) => applyModeAction(cur, action));
        }}
      />
      <ChatModeBanner settings={settings} />
    </>
  );
}

const openMenu = () => fireEvent.click(screen.getByRole('button', { name: 'Chat settings' }));
const banner = () => screen.queryByRole('status', { name: 'Chat modes' })?.textContent ?? null;

describe('ChatModes', () => {
  it('shows the room’s current modes when opened', () => {
    render(
      <Room
        sent={[]}
        initial={{
          slowSeconds: 30,
          followersOnly: true,
          followersOnlyMinutes: 1_440,
          subscribersOnly: false,
        }}
      />,
    );
    expect(screen.queryByRole('group', { name: 'Chat modes' })).toBeNull();
    openMenu();
    expect(
      screen.getByRole<HTMLInputElement>('checkbox', { name: 'Followers-only chat' }).checked,
    ).toBe(true);
    const age = screen.getByRole<HTMLSelectElement>('combobox', { name: 'Minimum follow age' });
    expect(age.selectedOptions[0]?.textContent).toBe('1 day');
    expect(
      screen.getByRole<HTMLInputElement>('checkbox', { name: 'Subscribers-only chat' }).checked,
    ).toBe(false);
    const slow = screen.getByRole<HTMLSelectElement>('combobox', { name: 'Slow mode' });
    expect(slow.selectedOptions[0]?.textContent).toBe('30 seconds');
    expect(banner()).toBe('Followers-only chat (1 day) · Slow mode (30 seconds)');
  });

  it('offers the usual follow ages and turns followers-only on with the one chosen', async () => {
    const sent: ModerationAction[] = [];
    render(<Room sent={sent} />);
    expect(banner()).toBeNull();
    openMenu();
    const age = screen.getByRole<HTMLSelectElement>('combobox', { name: 'Minimum follow age' });
    expect([...age.options].map((o) => o.textContent)).toEqual([
      'Any follower',
      '10 minutes',
      '30 minutes',
      '1 hour',
      '1 day',
      '1 week',
    ]);
    // Choosing an age while the mode is off changes nothing in the room yet.
    fireEvent.change(age, { target: { value: '10' } });
    expect(sent).toEqual([]);
    fireEvent.click(screen.getByRole('checkbox', { name: 'Followers-only chat' }));
    await waitFor(() => expect(banner()).toBe('Followers-only chat (10 minutes)'));
    expect(sent).toEqual([{ action: 'followers_only', enabled: true, minutes: 10 }]);

    // While on, a new age applies at once.
    fireEvent.change(age, { target: { value: '60' } });
    await waitFor(() => expect(banner()).toBe('Followers-only chat (1 hour)'));
    fireEvent.click(screen.getByRole('checkbox', { name: 'Followers-only chat' }));
    await waitFor(() => expect(banner()).toBeNull());
    expect(sent.slice(1)).toEqual([
      { action: 'followers_only', enabled: true, minutes: 60 },
      { action: 'followers_only', enabled: false, minutes: 60 },
    ]);
  });

  it('turns subscribers-only and slow mode on and off', async () => {
    const sent: ModerationAction[] = [];
    render(<Room sent={sent} />);
    openMenu();
    fireEvent.click(screen.getByRole('checkbox', { name: 'Subscribers-only chat' }));
    await waitFor(() => expect(banner()).toBe('Subscribers-only chat'));
    fireEvent.change(screen.getByRole('combobox', { name: 'Slow mode' }), {
      target: { value: '120' },
    });
    await waitFor(() => expect(banner()).toBe('Subscribers-only chat · Slow mode (2 minutes)'));
    fireEvent.change(screen.getByRole('combobox', { name: 'Slow mode' }), {
      target: { value: '0' },
    });
    fireEvent.click(screen.getByRole('checkbox', { name: 'Subscribers-only chat' }));
    await waitFor(() => expect(banner()).toBeNull());
    expect(sent).toEqual([
      { action: 'subscribers_only', enabled: true },
      { action: 'slow', seconds: 120 },
      { action: 'slow', seconds: 0 },
      { action: 'subscribers_only', enabled: false },
    ]);
  });

  it('shows a change at once, then goes back to the room’s modes and says why when it is refused', async () => {
    let refuse: (err: Error) => void = () => {};
    render(
      <ChatModes
        settings={off}
        onModerate={() =>
          new Promise((_, reject) => {
            refuse = reject;
          })
        }
      />,
    );
    openMenu();
    const box = screen.getByRole<HTMLInputElement>('checkbox', { name: 'Followers-only chat' });
    fireEvent.click(box);
    expect(box.checked).toBe(true);
    expect(box.disabled).toBe(true);
    act(() => refuse(new Error('CHAT_NOT_MODERATOR')));
    expect((await screen.findByRole('alert')).textContent).toBe('Only moderators can do that.');
    expect(box.checked).toBe(false);
    expect(box.disabled).toBe(false);
  });

  it('follows a change announced by the room while the menu is open', () => {
    const { rerender } = render(<ChatModes settings={off} onModerate={async () => {}} />);
    openMenu();
    rerender(
      <ChatModes
        settings={{ ...off, followersOnly: true, followersOnlyMinutes: 45 }}
        onModerate={async () => {}}
      />,
    );
    expect(
      screen.getByRole<HTMLInputElement>('checkbox', { name: 'Followers-only chat' }).checked,
    ).toBe(true);
    const age = screen.getByRole<HTMLSelectElement>('combobox', { name: 'Minimum follow age' });
    // An age set elsewhere that is not one of the usual choices is still shown.
    expect(age.selectedOptions[0]?.textContent).toBe('45 minutes');
  });

  it('closes on Escape', () => {
    render(<Room sent={[]} />);
    openMenu();
    fireEvent.keyDown(document, { key: 'Escape' });
    expect(screen.queryByRole('group', { name: 'Chat modes' })).toBeNull();
  });
});
