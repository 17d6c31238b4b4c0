import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@neon/testing';
import { stopProcess } from './proc.js';

export interface Nginx {
  url: string;
  /** With `master_process off` this one process is the worker. */
  pid: number;
  stop: () => Promise<void>;
}

/** nginx as a plain keep-alive reverse proxy to `upstream`, one worker, no access log. */
export async function startNginx(upstream: string): Promise<Nginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'neon-bench-nginx-'));
  mkdirSync(join(prefix, 'logs'));
  const port = await freePort();
  const target = new URL(upstream);
  const conf = `
${nginxPreamble(prefix)}
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  upstream app { server ${target.host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`;
  const url = `http://127.0.0.1:${port}`;
  const run = await runNginx(prefix, conf, `${url}/healthz`, 'nginx');
  return { url, ...run };
}

/** One foreground worker (so its pid is the one doing the work), logs under `prefix`. */
export function nginxPreamble(prefix: string): string {
  return `daemon off;
master_process off;
worker_processes 1;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 1024; }`;
}

/**
 * Runs nginx in the foreground on `conf` under `prefix` until it answers
 * `healthUrl`; `stop` ends it and removes the prefix.
 */
export async function runNginx(
  prefix: string,
  conf: string,
  healthUrl: string,
  what: string,
): Promise<{ pid: number; stop: () => Promise<void> }> {
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(
    '/usr/sbin/nginx',
    ['-p', prefix, '-c', join(prefix, 'nginx.conf')],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`${what} exited`);
      const res = await fetch(healthUrl);
      await res.arrayBuffer();
      return res.status === 200;
    },
    { timeoutMs: 10_000, what },
  );
  return {
    pid: child.pid!,
    async stop() {
      await stopProcess(child);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
