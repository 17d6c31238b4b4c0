import type { IngestDisconnect } from '@neon/contracts';

const clockFmt = new Intl.DateTimeFormat('en', {
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});
const kbps = (n: number) => `${Math.round(n).toLocaleString('en')} kb/s`;

/** What the streamer should read about the server closing their encoder, and what to do. */
export function disconnectSentence(d: IngestDisconnect): string {
  const at = clockFmt.format(new Date(d.at));
  switch (d.code) {
    case 'LIVE_INGEST_BITRATE_EXCEEDED':
      return d.measuredKbps !== undefined && d.limitKbps !== undefined
        ? `Your encoder was disconnected at ${at} because it sent ${kbps(d.measuredKbps)}, above the ${kbps(d.limitKbps)} limit: lower your bitrate.`
        : `Your encoder was disconnected at ${at} because it sent more than the bitrate limit: lower your bitrate.`;
    case 'LIVE_INGEST_RESOLUTION_EXCEEDED':
      return `Your encoder was disconnected at ${at} because its picture is larger than the resolution limit: lower your output resolution.`;
    case 'LIVE_INGEST_STALLED':
      return `Your encoder stopped sending video at ${at} while still connected, so the broadcast ended: check your encoder and your connection.`;
    case 'LIVE_ACCOUNT_SUSPENDED':
      return `Your broadcast was ended at ${at} because the account was suspended.`;
    case 'LIVE_PUBLISHER_REPLACED':
      return `At ${at} a new connection with your stream key took over from an encoder that had stopped sending.`;
  }
}

export function IngestDisconnectNotice({ disconnect }: { disconnect: IngestDisconnect }) {
  return (
    <p className="alert" role="status" data-testid="last-disconnect">
      {disconnectSentence(disconnect)}
    </p>
  );
}
