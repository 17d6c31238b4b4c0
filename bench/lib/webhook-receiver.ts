// The application's side of the webhook benchmark, in its own process (its CPU is counted for
// neither sender): answers every message at once, a notification with 204 and a callback
// verification with its challenge as text/plain, and counts what it got. One message in
// BENCH_WEBHOOK_CHECK_EVERY has its signature checked against BENCH_WEBHOOK_SECRET, as an
// application would check all of them, so that both senders are seen to sign correctly.
// GET /_bench/count answers the counts so far.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const SECRET = process.env.BENCH_WEBHOOK_SECRET ?? '';
const CHECK_EVERY = Number(process.env.BENCH_WEBHOOK_CHECK_EVERY ?? 64);

const counts = { notifications: 0, verifications: 0, other: 0, checked: 0, badSignatures: 0 };

function signatureOk(headers: Record<string, string | string[] | undefined>, body: Buffer) {
  const id = String(headers['neon-eventsub-message-id'] ?? '');
  const timestamp = String(headers['neon-eventsub-message-timestamp'] ?? '');
  const given = Buffer.from(String(headers['neon-eventsub-message-signature'] ?? ''));
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', SECRET).update(id).update(timestamp).update(body).digest('hex')}`,
  );
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/_bench/count') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counts));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const type = req.headers['neon-eventsub-message-type'];
    const body = Buffer.concat(chunks);
    if (type === 'webhook_callback_verification') {
      counts.verifications++;
      const { challenge } = JSON.parse(body.toString('utf8')) as { challenge?: string };
      res.writeHead(200, { 'content-type': 'text/plain' }).end(challenge ?? '');
      return;
    }
    if (type === 'notification') {
      if (counts.notifications++ % CHECK_EVERY === 0) {
        counts.checked++;
        if (!signatureOk(req.headers, body)) counts.badSignatures++;
      }
    } else counts.other++;
    res.writeHead(204).end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(
    `${JSON.stringify({ url: `http://127.0.0.1:${port}`, port: String(port) })}\n`,
  );
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
