// Fails fast, naming the engine, when PostgreSQL, NATS or Redis do not answer.
import net from 'node:net';

const engines = [
  ['TEST_DATABASE_URL', 5432],
  ['TEST_NATS_URL', 4222],
  ['TEST_REDIS_URL', 6379],
];

let ok = true;
for (const [variable, defaultPort] of engines) {
  const value = process.env[variable];
  if (!value) {
    console.error(`${variable} is not set`);
    ok = false;
    continue;
  }
  const url = new URL(value);
  const port = Number(url.port || defaultPort);
  const reachable = await new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port, timeout: 3000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
  if (!reachable) {
    console.error(`${variable} (${url.hostname}:${port}) does not answer`);
    ok = false;
  } else console.log(`${variable} answers at ${url.hostname}:${port}`);
}
process.exit(ok ? 0 : 1);
