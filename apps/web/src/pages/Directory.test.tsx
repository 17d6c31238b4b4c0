import { screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChannelSummary } from '@neon/contracts';
import { problem, renderApp, route, serve } from '../test-utils';
import Categories from './Categories';
import Category from './Category';
import Search from './Search';

function summary(username: string, over: Partial<ChannelSummary> = {}): ChannelSummary {
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
    ...over,
  };
}

const music = { slug: 'music', name: 'Music' };

describe('directory pages', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('lists categories with what is live in each, in the server’s order', async () => {
    serve(
      route('GET', '/api/v1/categories', {
        body: {
          items: [
            { slug: 'music', name: 'Music', liveChannels: 2, viewers: 1500 },
            { slug: 'retro', name: 'Retro', liveChannels: 1, viewers: 1 },
            { slug: 'travel', name: 'Travel and Outdoors', liveChannels: 0, viewers: 0 },
          ],
        },
      }),
    );
    renderApp(<Categories />);
    await waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(3));
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'Music2 channels live · 1.5K viewers',
      'Retro1 channel live · 1 viewer',
      'Travel and OutdoorsNobody live',
    ]);
    expect(screen.getByRole('link', { name: /Retro/ }).getAttribute('href')).toBe(
      '/directory/retro',
    );
  });

  it('shows a category’s live channels, most watched first as sent', async () => {
    serve(
      route('GET', '/api/v1/categories/music/streams', {
        body: {
          category: music,
          items: [
            summary('djane', {
              live: true,
              viewers: 900,
              title: 'Vinyl night',
              category: music,
              startedAt: new Date().toISOString(),
              tags: ['house'],
            }),
            summary('strings', { live: true, viewers: 40, title: 'Cello', category: music }),
          ],
        },
      }),
    );
    renderApp(<Category slug="music" />);
    expect(await screen.findByRole('heading', { name: 'Music' })).toBeTruthy();
    const cards = [...document.querySelectorAll('[data-channel]')];
    expect(cards.map((c) => c.getAttribute('data-channel'))).toEqual(['djane', 'strings']);
    expect(cards[0]?.textContent).toMatch(/Vinyl night.*djane · Music.*house/);
    expect(screen.getByText(/2 channels live · 940 viewers/)).toBeTruthy();
  });

  it('says when nobody is live in a category, and when it does not exist', async () => {
    serve(
      route('GET', '/api/v1/categories/music/streams', { body: { category: music, items: [] } }),
      route('GET', '/api/v1/categories/nope/streams', problem(404, 'CHANNELS_CATEGORY_NOT_FOUND')),
    );
    const first = renderApp(<Category slug="music" />);
    expect(await screen.findByText('Nobody is live in Music right now')).toBeTruthy();
    first.unmount();
    renderApp(<Category slug="nope" />);
    expect(await screen.findByText('Category not found')).toBeTruthy();
  });

  it('shows search results: categories, then channels with live ones marked', async () => {
    const calls = serve(
      route('GET', '/api/v1/search', {
        body: {
          channels: [
            summary('pixelpainter', { live: true, viewers: 12, title: 'Painting' }),
            summary('pixelsmith'),
          ],
          categories: [{ slug: 'art', name: 'Art', liveChannels: 1, viewers: 12 }],
        },
      }),
    );
    renderApp(<Search />, { at: '/search?q=pixl%20art' });
    expect(await screen.findByRole('heading', { name: 'Results for “pixl art”' })).toBeTruthy();
    await screen.findByRole('heading', { name: 'Channels' });
    expect(calls[0]?.search.get('q')).toBe('pixl art');
    const cards = [...document.querySelectorAll('[data-channel]')].map((c) => c.textContent);
    expect(cards[0]).toMatch(/LIVE.*12 viewers.*Painting/);
    expect(cards[1]).toMatch(/pixelsmith.*Offline/);
    expect(screen.getByRole('link', { name: /Art/ }).getAttribute('href')).toBe('/directory/art');
  });

  it('says so when a search finds nothing', async () => {
    serve(route('GET', '/api/v1/search', { body: { channels: [], categories: [] } }));
    renderApp(<Search />, { at: '/search?q=qqqq' });
    expect(await screen.findByText('No results for “qqqq”')).toBeTruthy();
  });
});
