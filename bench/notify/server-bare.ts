// The reference for memory per open stream: a bare node:http Server-Sent Events broadcaster, as
// small as one can be written — each stream gets the retry hint, a heartbeat every 15 s, and
// whatever is broadcast. Prints {"url"} when it listens; answers `rss` over IPC after a GC.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '../lib/ipc.js';
import { rssAfterGc } from './rss.js';

const streams = new Set<ServerResponse>();
const server = createServer((req, res) => {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  res.write('retry: 3000\n\n');
  streams.add(res);
  req.on('close', () => streams.delete(res));
});
setInterval(() => {
  for (const s of streams) s.write(': hb\n\n');
}, 15_000).unref();
server.listen(0, '127.0.0.1', () => {
  serve({ rss: async () => rssAfterGc() });
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
});
