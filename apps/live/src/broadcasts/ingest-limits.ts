import type { IngestDisconnectCode } from '@neon/contracts';
import type { SourceMeta } from './pipeline.js';

export interface IngestLimits {
  maxWidth: number;
  maxHeight: number;
  maxBitrateKbps: number;
}

/** Why the server closes a publisher: a code, words for the log, and the figures behind it. */
export interface DisconnectCause {
  code: IngestDisconnectCode;
  reason: string;
  limitKbps?: number;
  measuredKbps?: number;
}

/** Why a source is over the ingest limits, or null when it is within them. */
export function exceedsLimits(source: SourceMeta, limits: IngestLimits): DisconnectCause | null {
  const { maxWidth, maxHeight, maxBitrateKbps } = limits;
  const w = source.width ?? 0;
  const h = source.height ?? 0;
  // Portrait sources are compared with the limits turned the same way.
  const [lw, lh] = w >= h ? [maxWidth, maxHeight] : [maxHeight, maxWidth];
  if (w > lw || h > lh)
    return {
      code: 'LIVE_INGEST_RESOLUTION_EXCEEDED',
      reason: `ingest limit: resolution ${w}x${h} exceeds ${lw}x${lh}`,
    };
  const kbps = Math.round((source.videoBitrateKbps ?? 0) + (source.audioBitrateKbps ?? 0));
  if (kbps > maxBitrateKbps) return bitrateExceeded(kbps, maxBitrateKbps);
  return null;
}

export function bitrateExceeded(measuredKbps: number, limitKbps: number): DisconnectCause {
  return {
    code: 'LIVE_INGEST_BITRATE_EXCEEDED',
    reason: `ingest limit: bitrate ${measuredKbps} kbps exceeds ${limitKbps} kbps`,
    limitKbps,
    measuredKbps,
  };
}
