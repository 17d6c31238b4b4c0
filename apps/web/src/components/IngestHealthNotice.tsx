import type { IngestHealth } from '@neon/contracts';

/** The figures the sentence is built from: what arrives and how the transcoder copes with it. */
export interface IngestHealthFigures {
  bitrateKbps: number;
  fps: number;
  health: IngestHealth;
}

const times = (speed: number) => `${(Math.round(speed * 10) / 10).toFixed(1)}×`;

function qualities(names: string[]): string {
  const list =
    names.length <= 1
      ? (names[0] ?? '')
      : `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;
  return names.length === 1 ? `the ${list} quality was` : `the ${list} qualities were`;
}

/** One sentence for the streamer: what arrives, whether transcoding keeps up, and what to do. */
export function healthSentence(f: IngestHealthFigures): string {
  const { health } = f;
  const receiving = `Receiving ${Math.round(f.bitrateKbps).toLocaleString('en')} kb/s at ${Math.round(f.fps)} fps.`;
  const advice = health.advice ? ` Lower your output resolution to ${health.advice.height}p.` : '';
  const full = health.replicaFull
    ? ' This ingest server is at capacity: it takes no new broadcasts until load drops.'
    : '';
  let state: string;
  if (health.state === 'failing') {
    state =
      `Transcoding is behind real time${health.speed !== null ? ` (${times(health.speed)})` : ''} ` +
      'even with only the lowest quality left, so viewers see your stream late.';
  } else if (health.state === 'degraded') {
    const dropped = qualities(health.droppedRungs);
    state =
      health.speed !== null && health.speed >= 0.95
        ? `Transcoding keeps up (${times(health.speed)} real time) only because ${dropped} turned off.`
        : `Transcoding is falling behind${health.speed !== null ? ` (${times(health.speed)} real time)` : ''}: ${dropped} turned off.`;
  } else {
    state =
      health.speed === null
        ? 'Transcoding is starting.'
        : `Transcoding keeps up with real time (${times(health.speed)}).`;
  }
  return `${receiving} ${state}${advice}${full}`;
}

/** The ingest health as a sentence in the colour of its state (green, amber, red). */
export function IngestHealthNotice(props: IngestHealthFigures) {
  return (
    <p
      className={`ingest-health ${props.health.state}`}
      role="status"
      data-testid="ingest-health"
      data-state={props.health.state}
    >
      {healthSentence(props)}
    </p>
  );
}
