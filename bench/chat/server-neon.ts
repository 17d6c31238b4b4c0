// Neon's chat service alone on the embedded platform (PGlite on disk,
import { answerGc } from './gc-hook.js';
// in-process bus), as the benchmark's server under test. Prints `PORT <n>`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatService } from '@neon/chat';
import { loadConfig } from '@neon/kit';
import { openPlatform, platformSpec } from '@neon/platform';

const dataDir = mkdtempSync(join(tmpdir(), 'neon-bench-chat-'));
const platform = await openPlatform({
  name: 'chat',
  config: loadConfig(platformSpec, {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    INTERNAL_SECRET: process.env.BENCH_SECRET,
    // PostgreSQL instead of the embedded PGlite, to see what in-process storage costs.
    DATABASE_URL: process.env.BENCH_DATABASE_URL,
  }),
  shape: 'embedded',
});
const config = loadConfig(chatService.spec, {
  CHAT_RATE_LIMIT: '100000',
  CHAT_RATE_LIMIT_MODERATOR: '100000',
  CHAT_MAX_BUFFERED_BYTES: String(8 * 1024 * 1024),
  // The batching window under test (default: the service's own).
  CHAT_FLUSH_MS: process.env.BENCH_FLUSH_MS,
});
const service = await chatService.build(platform, config);
const address = await service.server.listen({ host: '127.0.0.1', port: 0 });
await service.start?.();
const senders = Number(process.env.BENCH_SENDERS ?? 20);
await platform.bus.publish('identity.user.registered.v1', {
  userId: 'bench-owner',
  username: 'bench',
  displayName: 'Bench',
  createdAt: new Date().toISOString(),
});
for (let i = 0; i < senders; i++) {
  await platform.bus.publish('identity.user.registered.v1', {
    userId: `bench-sender-${i}`,
    username: `sender_${i}`,
    displayName: `Sender ${i}`,
    createdAt: new Date().toISOString(),
  });
}
// Let the projection catch up before the generator joins.
for (let i = 0; i < 200; i++) {
  const rows = await platform.db.query(`SELECT count(*)::int AS n FROM chat.users`);
  if ((rows[0] as { n: number }).n >= senders + 1) break;
  await new Promise((r) => setTimeout(r, 50));
}
if (process.env.BENCH_FOLLOWERS_ONLY === '1') {
  // Followers-only (10 minutes), every sender a follower for an hour: each message is
  // checked and passes, as in a room where the mode is on and the regulars talk.
  for (let i = 0; i < senders; i++) {
    await platform.bus.publish('channels.follow.created.v1', {
      channel: 'bench',
      channelId: 'bench-owner',
      userId: `bench-sender-${i}`,
      username: `sender_${i}`,
      followedAt: new Date(Date.now() - 3_600_000).toISOString(),
    });
  }
  await platform.db.query(
    `INSERT INTO chat.room_settings (channel, followers_only, followers_only_minutes)
     VALUES ('bench', true, 10)`,
  );
  for (let i = 0; i < 200; i++) {
    const rows = await platform.db.query(`SELECT count(*)::int AS n FROM chat.follows`);
    if ((rows[0] as { n: number }).n >= senders) break;
    await new Promise((r) => setTimeout(r, 50));
  }
}
process.stdout.write(`PORT ${new URL(address).port}\n`);
const stop = async () => {
  await service.server.close();
  await service.close();
  await platform.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
answerGc();
