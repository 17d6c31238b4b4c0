import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChannelSummary, SearchResults } from '@neon/contracts';
import { renderApp, route, serve } from '../test-utils';
import { SearchBox } from './SearchBox';

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

const results: SearchResults = {
  channels: [
    summary('pixelpainter', { live: true, viewers: 1200, title: 'Painting' }),
    summary('pixelsmith'),
  ],
  categories: [{ slug: 'art', name: 'Art', liveChannels: 2, viewers: 1300 }],
};

const box = () => screen.getByRole('combobox', { name: 'Search channels and categories' });
const type = (value: string) => fireEvent.change(box(), { target: { value } });
const key = (k: string) => fireEvent.keyDown(box(), { key: k });

describe('SearchBox', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('asks once the typing pauses, and suggests channels then categories', async () => {
    const calls = serve(route('GET', '/api/v1/search', { body: results }));
    renderApp(<SearchBox />);
    fireEvent.focus(box());
    for (const v of ['p', 'pi', 'pix', 'pixl']) type(v);
    const options = await screen.findAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual([
      'pixelpainter1.2K viewers',
      'pixelsmith',
      '#ArtCategory',
    ]);
    const searches = calls.filter((c) => c.path === '/api/v1/search');
    expect(searches.map((c) => c.search.get('q'))).toEqual(['pixl']);
    expect(box().getAttribute('aria-expanded')).toBe('true');
  });

  it('moves through the suggestions with the arrow keys and opens the one chosen with Enter', async () => {
    serve(route('GET', '/api/v1/search', { body: results }));
    const { location } = renderApp(<SearchBox />);
    fireEvent.focus(box());
    type('pixl');
    await screen.findAllByRole('option');
    key('ArrowDown');
    key('ArrowDown');
    const active = screen.getByRole('option', { selected: true });
    expect(active.textContent).toMatch(/pixelsmith/);
    expect(box().getAttribute('aria-activedescendant')).toBe(active.id);
    key('ArrowUp');
    key('ArrowUp');
    key('ArrowUp');
    expect(screen.getByRole('option', { selected: true }).textContent).toMatch(/Art/);
    fireEvent.submit(box().closest('form')!);
    expect(location()).toBe('/directory/art');
    expect((box() as HTMLInputElement).value).toBe('');
  });

  it('opens the results page on Enter with nothing chosen, and closes on Escape', async () => {
    serve(route('GET', '/api/v1/search', { body: results }));
    const { location } = renderApp(<SearchBox />);
    fireEvent.focus(box());
    type('pixl');
    await screen.findAllByRole('option');
    key('Escape');
    expect(screen.queryByRole('listbox')).toBeNull();
    fireEvent.submit(box().closest('form')!);
    expect(location()).toBe('/search?q=pixl');
  });

  it('says when nothing matches', async () => {
    serve(route('GET', '/api/v1/search', { body: { channels: [], categories: [] } }));
    renderApp(<SearchBox />);
    fireEvent.focus(box());
    type('zzqx');
    await waitFor(() =>
      expect(screen.getByRole('listbox').textContent).toMatch(/Nothing matches “zzqx”/),
    );
  });
});
