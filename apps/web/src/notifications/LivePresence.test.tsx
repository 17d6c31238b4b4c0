import { screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LiveStream } from '@neon/contracts';
import Channel from '../pages/Channel';
import { Home } from '../pages/Home';
import { channel, renderApp, route, serve } from '../test-utils';
import { FakeEventSource } from './fake-event-source';

function live(name: string, over: Partial<LiveStream> = {}): LiveStream {
  return {
    broadcastId: `b-${name}`,
    channel: name,
    userId: `id-${name}`,
    title: `${name} live`,
    viewers: 0,
    startedAt: new Date().toISOString(),
    thumbnailUrl: null,
    hlsUrl: `/hls/${name}/master.m3u8`,
    dashUrl: `/dash/${name}/manifest.mpd`,
    renditions: [],
    ...over,
  };
}

/** The one presence stream the page opened, once its topics have settled. */
async function presence(query: string): Promise<FakeEventSource> {
  await waitFor(() => {
    const last = FakeEventSource.all.at(-1);
    expect(last && decodeURIComponent(new URL(last.url, location.href).search)).toBe(query);
  });
  const es = FakeEventSource.all.at(-1)!;
  es.open();
  return es;
}

describe('live presence pushed to pages', () => {
  beforeEach(() => {
    FakeEventSource.all = [];
    vi.stubGlobal('EventSource', FakeEventSource);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it(
    'the home page updates viewer counts, adds a channel going live and drops one ending',
    { timeout: 30_000 },
    async () => {
      let items = [live('ada', { viewers: 3 })];
      const calls = serve(route('GET', '/api/v1/streams', () => ({ body: { items } })));
      const { unmount } = renderApp(<Home />);
      expect(await screen.findByText('3 viewers')).toBeTruthy();
      const es = await presence('?channels=ada&directory=true');
      // An anonymous stream: no ticket in the address.
      expect(es.token()).toBeNull();

      es.emit('viewers', { channel: 'ada', viewers: 12 });
      expect(await screen.findByText('12 viewers')).toBeTruthy();

      items = [...items, live('bob', { title: 'Fresh stream' })];
      const before = calls.filter((c) => c.path === '/api/v1/streams').length;
      es.emit('live', { channel: 'bob', live: true, broadcastId: 'b-bob', title: 'Fresh stream' });
      expect(await screen.findByText('Fresh stream')).toBeTruthy();
      expect(calls.filter((c) => c.path === '/api/v1/streams').length).toBe(before + 1);

      es.emit('live', { channel: 'ada', live: true, broadcastId: 'b-ada', title: 'Renamed' });
      expect(await screen.findByText('Renamed')).toBeTruthy();

      es.emit('live', { channel: 'ada', live: false, broadcastId: 'b-ada', title: null });
      await waitFor(() => expect(screen.queryByText('Renamed')).toBeNull());
      // The stream follows the page's channels: now bob's.
      await presence('?channels=bob&directory=true');
      unmount();
    },
  );

  it(
    'the channel page shows pushed viewers, title and end without polling',
    { timeout: 30_000 },
    async () => {
      const calls = serve(
        route('GET', '/api/v1/channels/ada/stream', {
          body: { channel: 'ada', live: true, stream: live('ada', { title: 'Speedrun night' }) },
        }),
        route('GET', '/api/v1/channels/ada/videos', { body: { items: [] } }),
        route('GET', '/api/v1/channels/ada', { body: channel('ada') }),
        route('GET', '/api/v1/users/ada', {
          body: { username: 'ada', displayName: 'Ada', bio: '', avatarUrl: null, createdAt: '' },
        }),
      );
      vi.useFakeTimers({ shouldAdvanceTime: true });
      const { unmount } = renderApp(<Channel username="ada" />);
      expect(await screen.findByRole('heading', { name: 'Speedrun night' })).toBeTruthy();
      // The count the server had before this player was counted: this page is a viewer.
      expect(screen.getByTestId('viewer-count').textContent).toBe('1 viewer');
      const es = await presence('?channels=ada');
      // jsdom cannot play: the player's fatal error refetches the stream once. The pushes come
      // after that answer, or it would overwrite them with the server's older title and count.
      await screen.findByText('This browser cannot play HLS video.');
      const streamAsked = () => calls.filter((c) => c.path === '/api/v1/channels/ada/stream');
      await waitFor(() => expect(streamAsked().length).toBe(2));
      await vi.advanceTimersByTimeAsync(100);

      es.emit('viewers', { channel: 'ada', viewers: 4 });
      await waitFor(() => expect(screen.getByTestId('viewer-count').textContent).toBe('4 viewers'));
      es.emit('live', { channel: 'ada', live: true, broadcastId: 'b-ada', title: 'Any% attempts' });
      expect(await screen.findByRole('heading', { name: 'Any% attempts' })).toBeTruthy();

      // With the push connected the page does not poll.
      await vi.advanceTimersByTimeAsync(30_000);
      expect(streamAsked().length).toBe(2);

      es.emit('live', { channel: 'ada', live: false, broadcastId: 'b-ada', title: null });
      expect(await screen.findByRole('heading', { name: 'The stream has ended' })).toBeTruthy();
      vi.useRealTimers();
      unmount();
    },
  );
});
