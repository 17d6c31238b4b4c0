// A notify replica in a process of its own, for the memory comparison in bench/notify.ts: on
// PostgreSQL + NATS (BENCH_DATABASE_URL, BENCH_NATS_URL, BENCH_NAMESPACE, BENCH_SECRET), as the
// distributed shape runs it, with default settings. Prints {"url"} when it listens; answers
// `rss` over IPC after a GC.
import { serve } from '../lib/ipc.js';
import { startReplica } from './replica.js';
import { rssAfterGc } from './rss.js';

const { url } = await startReplica({
  databaseUrl: process.env.BENCH_DATABASE_URL!,
  natsUrl: process.env.BENCH_NATS_URL!,
  namespace: process.env.BENCH_NAMESPACE!,
  secret: process.env.BENCH_SECRET!,
});
serve({ rss: async () => rssAfterGc() });
console.log(JSON.stringify({ url }));
