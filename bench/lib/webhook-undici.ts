// The peer of the webhook benchmark, in its own process: a bare loop POSTing signed webhook
// messages with undici's `request` (its global dispatcher, as its users call it), as many at
// once as Neon's worker sends. Each message is made as Neon makes one: the body serialised
// ({ subscription, event }), a fresh message id and timestamp, HMAC-SHA256 over the three, the
// same headers; the answer is read. Commands (ipc.ts):
//   setup { origin, secret, targets: [{ path, subscription }], event }
//   run { count, concurrency, keepAlive }: keepAlive false sends each message on a connection
//     of its own (`reset`: `connection: close`, as Neon sends them); answers CPU and wall time.
import { createHmac, randomUUID } from 'node:crypto';
import { request } from 'undici';
import { EventSubHeaders } from '@neon/contracts';
import { serve } from './ipc.js';

interface Setup {
  origin: string;
  secret: string;
  targets: { path: string; subscription: unknown }[];
  event: unknown;
}

let setup: Setup | undefined;

async function run(args: { count: number; concurrency: number; keepAlive: boolean }) {
  const { origin, secret, targets, event } = setup!;
  let next = 0;
  let errors = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  async function sender(): Promise<void> {
    while (next < args.count) {
      const target = targets[next++ % targets.length]!;
      const id = randomUUID();
      const timestamp = new Date().toISOString();
      const body = JSON.stringify({ subscription: target.subscription, event });
      const signature = `sha256=${createHmac('sha256', secret)
        .update(id + timestamp + body)
        .digest('hex')}`;
      try {
        const res = await request(`${origin}${target.path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Neon-Eventsub/1',
            [EventSubHeaders.id]: id,
            [EventSubHeaders.timestamp]: timestamp,
            [EventSubHeaders.type]: 'notification',
            [EventSubHeaders.subscriptionType]: 'stream.online',
            [EventSubHeaders.subscriptionVersion]: '1',
            [EventSubHeaders.signature]: signature,
          },
          body,
          reset: !args.keepAlive,
        });
        await res.body.text();
        if (res.statusCode < 200 || res.statusCode >= 300) errors++;
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: args.concurrency }, sender));
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: cpu.user + cpu.system, wallMs: performance.now() - t0, errors };
}

serve({
  setup: async (args: Setup) => {
    setup = args;
  },
  run,
});
process.stdout.write(`${JSON.stringify({ ready: 'undici' })}\n`);
process.on('SIGTERM', () => process.exit(0));
