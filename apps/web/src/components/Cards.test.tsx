import { render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import type { Video } from '@neon/contracts';
import { date } from '../format';
import { VideoCard } from './Cards';

const video = (over: Partial<Video> = {}): Video => ({
  id: '0190a5b4-1c2d-7e8f-9a0b-1c2d3e4f5a6b',
  channel: 'ada',
  title: 'Speedrun night',
  startedAt: '2026-12-06T21:30:00.000Z',
  durationSeconds: 5400,
  thumbnailUrl: null,
  playlistUrl: '/vod/0190a5b4-1c2d-7e8f-9a0b-1c2d3e4f5a6b/master.m3u8',
  keep: false,
  expiresAt: '2027-01-05T21:30:00.000Z',
  ...over,
});

const deletes = () => screen.queryByText(/^Deletes/)?.textContent ?? null;

describe('VideoCard', () => {
  it('tells the owner when retention deletes a recording', () => {
    render(
      <MemoryRouter>
        <VideoCard video={video()} showExpiry />
      </MemoryRouter>,
    );
    expect(deletes()).toBe(`Deletes ${date('2027-01-05T21:30:00.000Z')}`);
  });

  it('says nothing of deletion to viewers, nor for a kept recording', () => {
    const { unmount } = render(
      <MemoryRouter>
        <VideoCard video={video()} />
      </MemoryRouter>,
    );
    expect(deletes()).toBeNull();
    unmount();
    render(
      <MemoryRouter>
        <VideoCard video={video({ keep: true, expiresAt: null })} showExpiry />
      </MemoryRouter>,
    );
    expect(deletes()).toBeNull();
  });
});
