import { screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FollowedChannel } from '@neon/contracts';
import { me, renderApp, route, serve } from '../test-utils';
import { FollowingNav } from './FollowingNav';

function followed(username: string, over: Partial<FollowedChannel> = {}): FollowedChannel {
  return {
    username,
    displayName: username,
    avatarUrl: null,
    title: '',
    category: null,
    tags: [],
    live: false,
    viewers: 0,
    startedAt: null,
    thumbnailUrl: null,
    followedAt: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

describe('FollowingNav', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('lists followed channels as the server orders them, live ones with viewers', async () => {
    serve(
      route('GET', '/api/v1/me/follows', {
        body: {
          items: [
            followed('bigstream', {
              live: true,
              viewers: 15400,
              category: { slug: 'music', name: 'Music' },
            }),
            followed('quietone', { live: true, viewers: 3, title: 'Coding' }),
            followed('sleeper'),
          ],
          nextCursor: null,
        },
      }),
    );
    renderApp(<FollowingNav />, { user: me('bob') });
    const nav = await screen.findByRole('navigation', { name: 'Following' });
    await waitFor(() => expect(nav.querySelectorAll('li')).toHaveLength(3));
    const rows = [...nav.querySelectorAll('li')].map((li) => li.textContent);
    expect(rows).toEqual(['bigstreamMusic15.4K', 'quietoneCoding3', 'sleeperOffline']);
    expect(screen.getByRole('link', { name: /bigstream/ }).getAttribute('href')).toBe('/bigstream');
    expect(screen.getByLabelText('live, 15400 viewers')).toBeTruthy();
  });

  it('invites a user who follows nobody to follow', async () => {
    serve(route('GET', '/api/v1/me/follows', { body: { items: [], nextCursor: null } }));
    renderApp(<FollowingNav />, { user: me('bob') });
    expect(await screen.findByText(/Follow channels to see here/)).toBeTruthy();
  });

  it('is not shown to a signed-out visitor, and asks nothing', () => {
    const calls = serve();
    renderApp(<FollowingNav />, { user: null });
    expect(screen.queryByRole('navigation')).toBeNull();
    expect(calls).toHaveLength(0);
  });
});
