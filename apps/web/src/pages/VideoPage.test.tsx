import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Video } from '@neon/contracts';
import { dateTime } from '../format';
import { me, problem, renderApp, route, serve } from '../test-utils';
import VideoPage from './VideoPage';

const id = '0190a5b4-1c2d-7e8f-9a0b-1c2d3e4f5a6b';
const expiresAt = '2027-01-05T21:30:00.000Z';

/** The line that says when retention deletes the recording, as the viewer reads it. */
const expiryLine = () => screen.queryByText(/^Deleted automatically on/)?.textContent ?? null;
const expiryText = `Deleted automatically on ${dateTime(expiresAt)}`;

function video(over: Partial<Video> = {}): Video {
  return {
    id,
    channel: 'ada',
    title: 'Speedrun night — 6 Dec 2026',
    startedAt: '2026-12-06T21:30:00.000Z',
    durationSeconds: 5400,
    thumbnailUrl: null,
    playlistUrl: `/vod/${id}/master.m3u8`,
    keep: false,
    expiresAt,
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

  it('tells everyone when retention deletes the recording', async () => {
    serve(route('GET', `/api/v1/videos/${id}`, { body: video() }));
    renderApp(<VideoPage />, { user: me('bob'), at: `/videos/${id}`, path: '/videos/:id' });
    const line = await screen.findByText(/^Deleted automatically on/);
    expect(line.textContent).toBe(expiryText);
    expect(line.querySelector('time')?.getAttribute('datetime')).toBe(expiresAt);
    expect(screen.queryByRole('checkbox', { name: 'Keep forever' })).toBeNull();
  });

  it('says nothing about deletion when the deployment keeps every recording', async () => {
    serve(route('GET', `/api/v1/videos/${id}`, { body: video({ expiresAt: null }) }));
    renderApp(<VideoPage />, { user: me('ada'), at: `/videos/${id}`, path: '/videos/:id' });
    const box = await screen.findByRole<HTMLInputElement>('checkbox', { name: 'Keep forever' });
    expect(box.checked).toBe(false);
    expect(expiryLine()).toBeNull();
    expect(screen.queryByText(/Kept:/)).toBeNull();
  });

  it('lets the owner keep a recording forever', async () => {
    let answer!: (a: { body: unknown }) => void;
    const calls = serve(
      route('GET', `/api/v1/videos/${id}`, { body: video() }),
      route(
        'PATCH',
        `/api/v1/videos/${id}`,
        () => new Promise<{ body: unknown }>((resolve) => (answer = resolve)),
      ),
    );
    renderApp(<VideoPage />, { user: me('ada'), at: `/videos/${id}`, path: '/videos/:id' });
    const box = await screen.findByRole<HTMLInputElement>('checkbox', { name: 'Keep forever' });
    expect(box.checked).toBe(false);
    fireEvent.click(box);
    await waitFor(() =>
      expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ keep: true }),
    );
    expect(box.checked).toBe(true);
    expect(box.disabled).toBe(true);
    answer({ body: video({ keep: true, expiresAt: null }) });
    expect(await screen.findByText('Kept: never deleted automatically.')).toBeTruthy();
    expect(box.checked).toBe(true);
    expect(box.disabled).toBe(false);
    expect(expiryLine()).toBeNull();
  });

  it('lets the owner give a kept recording back to retention', async () => {
    const calls = serve(
      route('GET', `/api/v1/videos/${id}`, { body: video({ keep: true, expiresAt: null }) }),
      route('PATCH', `/api/v1/videos/${id}`, { body: video() }),
    );
    renderApp(<VideoPage />, { user: me('ada'), at: `/videos/${id}`, path: '/videos/:id' });
    const box = await screen.findByRole<HTMLInputElement>('checkbox', { name: 'Keep forever' });
    expect(box.checked).toBe(true);
    expect(screen.getByText('Kept: never deleted automatically.')).toBeTruthy();
    fireEvent.click(box);
    await waitFor(() => expect(expiryLine()).toBe(expiryText));
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ keep: false });
    expect(box.checked).toBe(false);
    expect(screen.queryByText(/Kept:/)).toBeNull();
  });

  it('puts the box back and says why when keeping fails', async () => {
    serve(
      route('GET', `/api/v1/videos/${id}`, { body: video() }),
      route('PATCH', `/api/v1/videos/${id}`, problem(403, 'FORBIDDEN')),
    );
    renderApp(<VideoPage />, { user: me('ada'), at: `/videos/${id}`, path: '/videos/:id' });
    const box = await screen.findByRole<HTMLInputElement>('checkbox', { name: 'Keep forever' });
    fireEvent.click(box);
    expect((await screen.findByText('You are not allowed to do that.')).getAttribute('role')).toBe(
      'alert',
    );
    expect(box.checked).toBe(false);
    expect(box.disabled).toBe(false);
    expect(screen.queryByText(/Kept:/)).toBeNull();
    expect(expiryLine()).toBe(expiryText);
  });
});
