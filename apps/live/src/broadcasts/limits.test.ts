import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exceedsLimits } from './ingest-limits.js';
import type { SourceMeta } from './pipeline.js';

const limits = { maxWidth: 1920, maxHeight: 1080, maxBitrateKbps: 8000 };
const source = (s: Partial<SourceMeta>): SourceMeta => ({
  width: null,
  height: null,
  fps: null,
  videoCodec: 'h264',
  audioCodec: 'aac',
  videoBitrateKbps: null,
  audioBitrateKbps: null,
  ...s,
});

describe('ingest limits', () => {
  it('let through what fits, and sources that announce nothing', () => {
    assert.equal(
      exceedsLimits(
        source({ width: 1920, height: 1080, videoBitrateKbps: 6000, audioBitrateKbps: 160 }),
        limits,
      ),
      null,
    );
    assert.equal(
      exceedsLimits(source({ width: 1080, height: 1920 }), limits),
      null,
      'portrait 1080x1920',
    );
    assert.equal(exceedsLimits(source({}), limits), null);
  });

  it('name what is over, with the figures for a bitrate', () => {
    const big = exceedsLimits(source({ width: 2560, height: 1440 }), limits);
    assert.equal(big?.code, 'LIVE_INGEST_RESOLUTION_EXCEEDED');
    assert.match(big?.reason ?? '', /resolution 2560x1440/);
    assert.equal(
      exceedsLimits(source({ width: 1080, height: 2400 }), limits)?.code,
      'LIVE_INGEST_RESOLUTION_EXCEEDED',
    );
    const fast = exceedsLimits(source({ videoBitrateKbps: 7950, audioBitrateKbps: 128 }), limits);
    assert.equal(fast?.code, 'LIVE_INGEST_BITRATE_EXCEEDED');
    assert.equal(fast?.limitKbps, 8000);
    assert.equal(fast?.measuredKbps, 8078);
    assert.match(fast?.reason ?? '', /bitrate 8078 kbps/);
  });
});
