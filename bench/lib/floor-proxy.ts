// The reference floor of a node proxy: node's http server and the gateway's
// own upstream connections, and nothing else (no routing, tokens, limits,
// metrics or security headers). The gap between it and nginx is what node
// costs; the gap between it and the gateway is what the gateway's rules cost.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Http1Pool, type ExchangeHandler } from '@neon/gateway';

const upstream = new URL(process.env.BENCH_UPSTREAM!);
const pool = new Http1Pool(upstream.hostname, Number(upstream.port), {
  maxIdle: 64,
  idleTimeoutMs: 4000,
});

function proxy(req: IncomingMessage, res: ServerResponse): void {
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  head += `x-forwarded-for: ${req.socket.remoteAddress}\r\n\r\n`;
  let status = 0;
  let headers: string[] = [];
  const body: Buffer[] = [];
  const handler: ExchangeHandler = {
    onHead(s, h) {
      status = s;
      headers = h;
    },
    onData(chunk) {
      body.push(chunk);
      return true;
    },
    onEnd() {
      res.writeHead(status, headers);
      res.end(Buffer.concat(body));
    },
    onError() {
      res.writeHead(502).end();
    },
  };
  pool.request(head, handler, req.method === 'HEAD', 30_000);
}

const server = createServer(proxy);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => {
  pool.close();
  server.close(() => process.exit(0));
});
