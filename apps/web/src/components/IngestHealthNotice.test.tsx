import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { IngestHealth } from '@neon/contracts';
import { IngestHealthNotice } from './IngestHealthNotice';

const health = (h: Partial<IngestHealth>): IngestHealth => ({
  state: 'good',
  speed: 1,
  droppedRungs: [],
  advice: null,
  replicaFull: false,
  ...h,
});

describe('IngestHealthNotice', () => {
  it('tells a streamer whose transcoding falls behind which qualities went and what to do, in amber', () => {
    render(
      <IngestHealthNotice
        bitrateKbps={2385.4}
        fps={15}
        health={health({
          state: 'degraded',
          speed: 0.7,
          droppedRungs: ['1080p', '720p'],
          advice: { action: 'lower_resolution', height: 720 },
        })}
      />,
    );
    const notice = screen.getByRole('status');
    expect(notice.textContent).toBe(
      'Receiving 2,385 kb/s at 15 fps. Transcoding is falling behind (0.7× real time): the 1080p and 720p qualities were turned off. Lower your output resolution to 720p.',
    );
    expect(notice.className).toBe('ingest-health degraded');
  });

  it('says all is well in green, and when it is failing says so in red', () => {
    const { unmount } = render(
      <IngestHealthNotice bitrateKbps={6000} fps={60} health={health({})} />,
    );
    expect(screen.getByRole('status').textContent).toBe(
      'Receiving 6,000 kb/s at 60 fps. Transcoding keeps up with real time (1.0×).',
    );
    expect(screen.getByRole('status').className).toBe('ingest-health good');
    unmount();

    render(
      <IngestHealthNotice
        bitrateKbps={6000}
        fps={60}
        health={health({
          state: 'failing',
          speed: 0.62,
          droppedRungs: ['720p', '480p', '360p'],
          advice: { action: 'lower_resolution', height: 480 },
          replicaFull: true,
        })}
      />,
    );
    const text = screen.getByRole('status').textContent ?? '';
    expect(text).toMatch(/behind real time \(0\.6×\) even with only the lowest quality left/);
    expect(text).toMatch(/Lower your output resolution to 480p\./);
    expect(text).toMatch(/at capacity/);
    expect(screen.getByRole('status').className).toBe('ingest-health failing');
  });

  it('once caught up with rungs off, says why it keeps up', () => {
    render(
      <IngestHealthNotice
        bitrateKbps={3000}
        fps={30}
        health={health({ state: 'degraded', speed: 1, droppedRungs: ['720p'] })}
      />,
    );
    expect(screen.getByRole('status').textContent).toBe(
      'Receiving 3,000 kb/s at 30 fps. Transcoding keeps up (1.0× real time) only because the 720p quality was turned off.',
    );
  });
});
