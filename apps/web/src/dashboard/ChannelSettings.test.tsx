import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Channel } from '@neon/contracts';
import { channel, me, problem, renderApp, route, serve, type Call } from '../test-utils';
import { ChannelSettings } from './ChannelSettings';

const categories = {
  body: {
    items: [
      { slug: 'music', name: 'Music', liveChannels: 1, viewers: 10 },
      { slug: 'art', name: 'Art', liveChannels: 0, viewers: 0 },
    ],
  },
};

const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
const errorOf = (label: string) => {
  const ids = screen.getByLabelText(label).getAttribute('aria-describedby')?.split(' ') ?? [];
  return (
    ids.map((id) => document.getElementById(id)).find((e) => e?.classList.contains('field-error'))
      ?.textContent ?? null
  );
};
const save = () => fireEvent.click(screen.getByRole('button', { name: 'Save channel settings' }));

/** PATCH answers like the server: the channel with the change applied. */
function patching(current: Channel) {
  return (call: Call) => {
    const body = call.body as Record<string, unknown> & { category: string | null };
    const category =
      body.category === null
        ? null
        : { slug: body.category, name: body.category === 'art' ? 'Art' : 'Music' };
    return {
      body: {
        ...current,
        ...body,
        category,
        tags: (body.tags as string[]).map((t) => t.toLowerCase()),
      },
    };
  };
}

describe('ChannelSettings', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('sends every setting and shows what the server stored', async () => {
    const mine = channel('alice', { category: { slug: 'music', name: 'Music' }, tags: ['synth'] });
    const calls = serve(
      route('GET', '/api/v1/me/channel', { body: mine }),
      route('GET', '/api/v1/categories', categories),
      route('PATCH', '/api/v1/me/channel', patching(mine)),
    );
    renderApp(<ChannelSettings />, { user: me('alice') });
    await waitFor(() =>
      expect(screen.getByLabelText<HTMLInputElement>('Tags').value).toBe('synth'),
    );
    await screen.findByRole('option', { name: 'Art' });
    type('Category', 'art');
    type('Tags', 'Pixel-Art, #chill  speedpaint');
    type('About', 'Painting nightly. https://example.org/prints');
    type('Link 1', 'https://example.org/alice');
    fireEvent.click(screen.getByRole('button', { name: 'Add a link' }));
    type('Link 2', '   ');
    type('Language', 'fr');
    fireEvent.click(screen.getByLabelText(/Mature content/));
    save();
    await screen.findByText('Saved.');
    const patch = calls.find((c) => c.method === 'PATCH');
    expect(patch?.body).toEqual({
      category: 'art',
      tags: ['Pixel-Art', 'chill', 'speedpaint'],
      about: 'Painting nightly. https://example.org/prints',
      links: ['https://example.org/alice'],
      language: 'fr',
      mature: true,
    });
    await waitFor(() =>
      expect(screen.getByLabelText<HTMLInputElement>('Tags').value).toBe(
        'pixel-art, chill, speedpaint',
      ),
    );
  });

  it('puts the server’s 400 next to the field it names', async () => {
    const mine = channel('alice');
    serve(
      route('GET', '/api/v1/me/channel', { body: mine }),
      route('GET', '/api/v1/categories', categories),
      route(
        'PATCH',
        '/api/v1/me/channel',
        problem(400, 'VALIDATION_FAILED', [
          { field: 'body.links.1', message: 'must be an https link to a site' },
        ]),
      ),
    );
    renderApp(<ChannelSettings />, { user: me('alice') });
    await screen.findByLabelText('Link 1');
    type('Link 1', 'https://example.org/ok');
    fireEvent.click(screen.getByRole('button', { name: 'Add a link' }));
    fireEvent.click(screen.getByRole('button', { name: 'Add a link' }));
    // Row 2 stays blank: the server's second link is the third row.
    type('Link 3', 'https://intranet/x');
    save();
    await waitFor(() =>
      expect(errorOf('Link 3')).toBe('Link 3 must be an https:// link to a website.'),
    );
    expect(errorOf('Link 1')).toBeNull();
    expect(screen.getByLabelText('Link 3').getAttribute('aria-invalid')).toBe('true');
    type('Link 3', 'https://intranet.example/x');
    expect(errorOf('Link 3')).toBeNull();
  });

  it('names an unknown category and a bad tag from the server in words', async () => {
    serve(
      route('GET', '/api/v1/me/channel', { body: channel('alice') }),
      route('GET', '/api/v1/categories', categories),
      route(
        'PATCH',
        '/api/v1/me/channel',
        problem(400, 'VALIDATION_FAILED', [
          { field: 'body.category', message: 'is not a category' },
        ]),
      ),
    );
    renderApp(<ChannelSettings />, { user: me('alice') });
    await screen.findByRole('option', { name: 'Music' });
    type('Category', 'music');
    save();
    await waitFor(() => expect(errorOf('Category')).toBe('Pick a category from the list.'));
  });

  it('checks tags, links and length before sending', async () => {
    const calls = serve(
      route('GET', '/api/v1/me/channel', { body: channel('alice') }),
      route('GET', '/api/v1/categories', categories),
    );
    renderApp(<ChannelSettings />, { user: me('alice') });
    await screen.findByLabelText('Link 1');
    type('Tags', 'fine, not✨ok');
    type('Link 1', 'http://example.org');
    type('About', 'x'.repeat(1001));
    save();
    expect(errorOf('Tags')).toMatch(/“not✨ok” is not a tag/);
    expect(errorOf('Link 1')).toBe('Link 1 must be an https:// link to a website.');
    expect(errorOf('About')).toMatch(/at most 1,000 characters/);
    type('Tags', Array.from({ length: 11 }, (_, i) => `t${i}`).join(','));
    save();
    expect(errorOf('Tags')).toBe('Use at most 10 tags.');
    expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(0);
  });
});
