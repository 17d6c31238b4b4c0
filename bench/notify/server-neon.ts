// A notify replica in a process of its own (bench/notify.ts runs every replica this way, so
// each holds its streams under its own open-file limit): on PostgreSQL + NATS
// (BENCH_DATABASE_URL, BENCH_NATS_URL, BENCH_NAMESPACE, BENCH_SECRET), as the distributed shape
// runs it, with default settings but for the NOTIFY_* variables it is given. Prints {"url"} when
// it listens; answers `rss` over IPC after a GC; on SIGTERM closes as a replica does (its
// unfinished bus messages go back to the others, not to the next round).
import { serve } from '../lib/ipc.js';
import { startReplica, stopReplica } from './replica.js';
import { rssAfterGc } from './rss.js';

const replica = await startReplica({
  databaseUrl: process.env.BENCH_DATABASE_URL!,
  natsUrl: process.env.BENCH_NATS_URL!,
  namespace: process.env.BENCH_NAMESPACE!,
  secret: process.env.BENCH_SECRET!,
  env: Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[0].startsWith('NOTIFY_') && e[1] !== undefined,
    ),
  ),
});
if (process.send) serve({ rss: async () => rssAfterGc() });
process.once('SIGTERM', () => {
  void stopReplica(replica).finally(() => process.exit(0));
});
console.log(JSON.stringify({ url: replica.url }));
