import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@neon/testing';
import { nginxPreamble, runNginx } from '../lib/nginx.js';

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
${nginxPreamble(prefix)}
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
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const run = await runNginx(prefix, conf, `${httpUrl}/healthz`, 'nginx-rtmp');
  return {
    rtmpUrl: `rtmp://127.0.0.1:${rtmpPort}/live`,
    httpUrl,
    staticDir: join(prefix, 'static'),
    ...run,
  };
}
