import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { IngestDisconnectNotice } from './IngestDisconnectNotice';

// 14:02 wherever the test runs: the notice shows the streamer's own clock.
const at = new Date(2025, 5, 1, 14, 2, 30).toISOString();

describe('IngestDisconnectNotice', () => {
  it('says why a bitrate cut-off happened, with both figures, and what to do', () => {
    render(
      <IngestDisconnectNotice
        disconnect={{
          at,
          code: 'LIVE_INGEST_BITRATE_EXCEEDED',
          reason: 'ingest limit: bitrate 9800 kbps exceeds 8000 kbps',
          limitKbps: 8000,
          measuredKbps: 9800,
        }}
      />,
    );
    expect(screen.getByRole('status').textContent).toBe(
      'Your encoder was disconnected at 14:02 because it sent 9,800 kb/s, above the 8,000 kb/s limit: lower your bitrate.',
    );
  });

  it('explains the other disconnects in words, never with the code', () => {
    for (const [code, words] of [
      ['LIVE_INGEST_BITRATE_EXCEEDED', /at 14:02 because it sent more than the bitrate limit/],
      ['LIVE_INGEST_RESOLUTION_EXCEEDED', /at 14:02 .*resolution limit: lower your output/],
      ['LIVE_INGEST_STALLED', /stopped sending video at 14:02 .*the broadcast ended/],
      ['LIVE_PUBLISHER_REPLACED', /At 14:02 a new connection with your stream key took over/],
      ['LIVE_ACCOUNT_SUSPENDED', /ended at 14:02 because the account was suspended/],
    ] as const) {
      const { unmount } = render(
        <IngestDisconnectNotice disconnect={{ at, code, reason: 'for the log' }} />,
      );
      const text = screen.getByRole('status').textContent ?? '';
      expect(text).toMatch(words);
      expect(text).not.toContain(code);
      expect(text).not.toContain('for the log');
      unmount();
    }
  });
});
