// An RTMP listener with the package's session and nothing else, for
// bench/rtmp-memory.ts: BENCH_PRE_PUBLISH=off turns the pre-publish budget off,
// which is how ingest behaved before it, so both can be measured the same way.
// Prints one JSON line { url, rtmpPort }; SIGUSR2 runs a full GC (with --expose-gc).
import { createServer } from 'node:net';
import { RtmpServerSession } from '@neon/rtmp';

const budgetOff = process.env.BENCH_PRE_PUBLISH === 'off';
const server = createServer((socket) => {
  const session = new RtmpServerSession({
    send: (b) => void socket.write(b),
    ...(budgetOff ? { prePublishLimits: null } : {}),
  });
  session.on('error', () => socket.destroy());
  socket.on('data', (d: Buffer) => void session.feed(d));
  socket.on('error', () => undefined);
  socket.on('close', () => session.end());
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  const port = a && typeof a === 'object' ? a.port : 0;
  process.stdout.write(
    `${JSON.stringify({ url: `rtmp://127.0.0.1:${port}`, rtmpPort: String(port) })}\n`,
  );
});
const gc = (globalThis as { gc?: () => void }).gc;
process.on('SIGUSR2', () => gc?.());
process.once('SIGTERM', () => process.exit(0));
