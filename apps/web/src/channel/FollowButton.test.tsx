import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useChannelQuery } from '../api/api';
import { channel, me, problem, renderApp, route, serve } from '../test-utils';
import { FollowButton } from './FollowButton';

function Harness() {
  const { data } = useChannelQuery('alice');
  return data ? <FollowButton channel={data} /> : null;
}

const count = () => screen.getByTestId('follower-count').textContent;

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('FollowButton', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('counts the follow at once, then shows the server’s count', async () => {
    const answer = deferred<{ body: unknown }>();
    const calls = serve(
      route('GET', '/api/v1/channels/alice', { body: channel('alice', { followers: 10 }) }),
      route('PUT', '/api/v1/channels/alice/follow', answer.promise),
    );
    renderApp(<Harness />, { user: me('bob') });
    await waitFor(() => expect(count()).toBe('10 followers'));
    fireEvent.click(screen.getByRole('button', { name: 'Follow alice' }));
    // The server has not answered yet.
    await waitFor(() => expect(count()).toBe('11 followers'));
    expect(screen.getByRole('button', { name: 'Unfollow alice' }).textContent).toMatch(/Following/);
    await act(async () => answer.resolve({ body: { following: true, followers: 12 } }));
    await waitFor(() => expect(count()).toBe('12 followers'));
    expect(calls.filter((c) => c.method === 'PUT')).toHaveLength(1);
  });

  it('unfollows, and puts everything back with a sentence when the server refuses', async () => {
    serve(
      route('GET', '/api/v1/channels/alice', {
        body: channel('alice', { followers: 1, following: true }),
      }),
      route('DELETE', '/api/v1/channels/alice/follow', problem(429, 'RATE_LIMITED')),
    );
    renderApp(<Harness />, { user: me('bob') });
    await waitFor(() => expect(count()).toBe('1 follower'));
    fireEvent.click(screen.getByRole('button', { name: 'Unfollow alice' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/Too many/));
    expect(count()).toBe('1 follower');
    expect(screen.getByRole('button', { name: 'Unfollow alice' })).toBeTruthy();
  });

  it('asks a signed-out visitor to log in, and comes back to the channel after', async () => {
    const calls = serve(route('GET', '/api/v1/channels/alice', { body: channel('alice') }));
    const { location } = renderApp(<Harness />, { user: null, at: '/alice' });
    fireEvent.click(await screen.findByRole('button', { name: 'Follow alice' }));
    const dialog = screen.getByRole('dialog', { name: 'Log in to follow' });
    expect(dialog.textContent).toMatch(/Log in to follow alice/);
    expect(calls.some((c) => c.method === 'PUT')).toBe(false);
    fireEvent.click(screen.getByRole('link', { name: 'Log in' }));
    expect(location()).toBe('/login?next=%2Falice');
  });

  it('shows the owner the count and no button', async () => {
    serve(route('GET', '/api/v1/channels/alice', { body: channel('alice', { followers: 3 }) }));
    renderApp(<Harness />, { user: me('alice') });
    await waitFor(() => expect(count()).toBe('3 followers'));
    expect(screen.queryByRole('button')).toBeNull();
  });
});
