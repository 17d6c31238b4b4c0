import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Video } from '@neon/contracts';
import { me, renderApp, route, serve } from '../test-utils';
import VideoPage from './VideoPage';

const id = '0190a5b4-1c2d-7e8f-9a0b-1c2d3e4f5a6b';

function video(over: Partial<Video> = {}): Video {
  return {
    id,
    channel: 'ada',
    title: 'Speedrun night — 6 Dec 2026',
    startedAt: '2026-12-06T21:30:00.000Z',
    durationSeconds: 5400,
    thumbnailUrl: null,
    playlistUrl: `/vod/${id}/master.m3u8`,
    ...over,
  };
}

describe('video page', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('lets the owner rename a recording', async () => {
    const calls = serve(
      route('GET', `/api/v1/videos/${id}`, { body: video() }),
      route('PATCH', `/api/v1/videos/${id}`, (c) => ({
        body: video({ title: (c.body as { title: string }).title }),
      })),
    );
    renderApp(<VideoPage />, { user: me('ada'), at: `/videos/${id}`, path: '/videos/:id' });
    fireEvent.click(await screen.findByRole('button', { name: 'Rename' }));
    const input = screen.getByLabelText('Title');
    expect(document.activeElement).toBe(input);
    fireEvent.change(input, { target: { value: '  Any% world record ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByRole('heading', { name: 'Any% world record' })).toBeTruthy();
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ title: 'Any% world record' });
    await waitFor(() =>
      expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Rename' })),
    );
  });

  it('closes the rename form on Escape and gives focus back to its button', async () => {
    serve(route('GET', `/api/v1/videos/${id}`, { body: video() }));
    renderApp(<VideoPage />, { user: me('ada'), at: `/videos/${id}`, path: '/videos/:id' });
    fireEvent.click(await screen.findByRole('button', { name: 'Rename' }));
    fireEvent.keyDown(screen.getByLabelText('Title'), { key: 'Escape' });
    expect(screen.queryByLabelText('Title')).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Rename' }));
    expect(screen.getByRole('heading', { name: 'Speedrun night — 6 Dec 2026' })).toBeTruthy();
  });

  it('offers no rename to anyone but the owner', async () => {
    serve(route('GET', `/api/v1/videos/${id}`, { body: video() }));
    renderApp(<VideoPage />, { user: me('bob'), at: `/videos/${id}`, path: '/videos/:id' });
    expect(
      await screen.findByRole('heading', { name: 'Speedrun night — 6 Dec 2026' }),
    ).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Rename' })).toBeNull();
  });
});
