import { render, screen, waitFor } from '@testing-library/react';
import { Provider } from 'react-redux';
import { MemoryRouter } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App';
import { createStore } from '../store';
import { channel, renderApp, route, serve } from '../test-utils';
import Channel from './Channel';
import VideoPage from './VideoPage';

/** The whole app as a fresh page load sees it: nothing known about the session yet. */
function loadApp() {
  render(
    <Provider store={createStore()}>
      <MemoryRouter initialEntries={['/']}>
        <App />
      </MemoryRouter>
    </Provider>,
  );
}

describe('page states', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    localStorage.clear();
  });

  it('says a channel does not exist and stops asking once told so', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const calls = serve();
    renderApp(<Channel username="ghost" />);
    expect(await screen.findByRole('heading', { name: 'Channel not found' })).toBeTruthy();
    const asked = () => calls.filter((c) => c.path === '/api/v1/channels/ghost/stream').length;
    const before = asked();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(asked()).toBe(before);
    expect(screen.getByRole('heading', { name: 'Channel not found' })).toBeTruthy();
  });

  it('says a malformed video id names no video, without asking or offering a retry', async () => {
    const calls = serve();
    renderApp(<VideoPage />, { at: '/videos/not-a-video', path: '/videos/:id' });
    expect(await screen.findByRole('heading', { name: 'Video not found' })).toBeTruthy();
    expect(screen.getByText('This video does not exist.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Try again' })).toBeNull();
    expect(calls.filter((c) => c.path.startsWith('/api/v1/videos/'))).toHaveLength(0);
  });

  it('says a deleted video does not exist', async () => {
    serve();
    const id = '0190a5b4-1c2d-7e8f-9a0b-1c2d3e4f5a6b';
    renderApp(<VideoPage />, { at: `/videos/${id}`, path: '/videos/:id' });
    expect(await screen.findByText('This video does not exist.')).toBeTruthy();
  });

  it('shows an offline channel’s avatar once and no promise of broadcasts it has not got', async () => {
    serve(
      route('GET', '/api/v1/channels/ada/stream', {
        body: { channel: 'ada', live: false, stream: null },
      }),
      route('GET', '/api/v1/users/ada', {
        body: {
          username: 'ada',
          displayName: 'Ada',
          bio: '',
          avatarUrl: 'https://img.example.test/ada.png',
          createdAt: '2025-01-01T00:00:00.000Z',
        },
      }),
      route('GET', '/api/v1/channels/ada', { body: channel('ada', { displayName: 'Ada' }) }),
      route('GET', '/api/v1/channels/ada/videos', { body: { items: [] } }),
    );
    const { container } = renderApp(<Channel username="ada" />);
    expect(await screen.findByText('No past broadcasts yet.')).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Ada is offline' })).toBeTruthy();
    expect(container.querySelectorAll('img.avatar')).toHaveLength(1);
    expect(screen.queryByText(/Catch up/)).toBeNull();
  });

  it('says the stream has ended, with a link to its recording, instead of a live player', async () => {
    const broadcastId = '0190a5b4-1c2d-7e8f-9a0b-000000000001';
    let live = true;
    serve(
      route('GET', '/api/v1/channels/ada/stream', () => {
        const body = live
          ? {
              channel: 'ada',
              live: true,
              stream: {
                broadcastId,
                channel: 'ada',
                userId: 'id-ada',
                title: 'Speedrun night',
                viewers: 3,
                startedAt: new Date().toISOString(),
                thumbnailUrl: null,
                hlsUrl: '/hls/ada/master.m3u8',
                dashUrl: '/dash/ada/manifest.mpd',
                renditions: [],
              },
            }
          : { channel: 'ada', live: false, stream: null };
        live = false;
        return { body };
      }),
      route('GET', '/api/v1/channels/ada/videos', { body: { items: [] } }),
      route('GET', '/api/v1/channels/ada', { body: channel('ada') }),
      route('GET', '/api/v1/users/ada', {
        body: { username: 'ada', displayName: 'Ada', bio: '', avatarUrl: null, createdAt: '' },
      }),
    );
    vi.useFakeTimers({ shouldAdvanceTime: true });
    renderApp(<Channel username="ada" />);
    expect(await screen.findByRole('heading', { name: 'Speedrun night' })).toBeTruthy();
    // The next poll (or the player, when the server closes the playlist) finds it over.
    await vi.advanceTimersByTimeAsync(10_000);
    const heading = await screen.findByRole('heading', { name: 'The stream has ended' });
    expect(heading).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Watch the recording' }).getAttribute('href')).toBe(
      `/videos/${broadcastId}`,
    );
    expect(screen.queryByText('LIVE')).toBeNull();
  });

  it('does not ask to refresh a session on a visit that never signed in', async () => {
    const calls = serve();
    loadApp();
    expect(await screen.findByRole('link', { name: 'Log in' })).toBeTruthy();
    expect(calls.filter((c) => c.path === '/api/v1/auth/refresh')).toHaveLength(0);
  });

  it('restores the session after a sign-in was recorded', async () => {
    localStorage.setItem('neon:signed-in', '1');
    const calls = serve();
    loadApp();
    await waitFor(() =>
      expect(calls.filter((c) => c.path === '/api/v1/auth/refresh')).toHaveLength(1),
    );
    // The cookie was gone (401): the next load does not ask again.
    expect(await screen.findByRole('link', { name: 'Log in' })).toBeTruthy();
    expect(localStorage.getItem('neon:signed-in')).toBeNull();
  });
});
