import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@neon/testing';
import { stopProcess } from '../lib/proc.js';

export interface NginxRtmp {
  rtmpUrl: string;
  httpUrl: string;
  /** Files under it are served at `${httpUrl}/static/`. */
  staticDir: string;
  pid: number;
  stop(): Promise<void>;
}

/** nginx with the RTMP module: HLS with 1 s fragments, served with CORS, plus a static folder. */
export async function startNginxRtmp(): Promise<NginxRtmp> {
  const prefix = mkdtempSync(join(tmpdir(), 'neon-bench-nginx-rtmp-'));
  for (const d of ['logs', 'hls', 'static']) mkdirSync(join(prefix, d));
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const conf = `
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
worker_processes 1;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 1024; }
rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    application live {
      live on;
      hls on;
      hls_path ${prefix}/hls;
      hls_fragment 1s;
      hls_playlist_length 6s;
    }
  }
}
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  types {
    application/vnd.apple.mpegurl m3u8;
    video/mp2t ts;
    video/iso.segment m4s;
  }
  server {
    listen 127.0.0.1:${httpPort};
    location /hls/ {
      alias ${prefix}/hls/;
      add_header Cache-Control no-cache;
      add_header Access-Control-Allow-Origin *;
    }
    location /static/ {
      alias ${prefix}/static/;
      add_header Access-Control-Allow-Origin *;
      add_header Cache-Control "public, max-age=31536000, immutable";
    }
    location = /healthz { return 200 ok; }
  }
}
`;
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(
    '/usr/sbin/nginx',
    ['-p', prefix, '-c', join(prefix, 'nginx.conf')],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error('nginx exited');
      const res = await fetch(`${httpUrl}/healthz`);
      await res.arrayBuffer();
      return res.status === 200;
    },
    { timeoutMs: 10_000, what: 'nginx-rtmp' },
  );
  return {
    rtmpUrl: `rtmp://127.0.0.1:${rtmpPort}/live`,
    httpUrl,
    staticDir: join(prefix, 'static'),
    pid: child.pid!,
    async stop() {
      await stopProcess(child);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
