import { request, type IncomingMessage } from 'node:http';
import { waitFor } from '@neon/testing';

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  /** A comment line's text. */
  comment?: string;
}

export interface SseConnection {
  status: number;
  body: string;
  frames: SseFrame[];
  ended: boolean;
  /** Resolves with the first frame matching `pred` (seen already or to come). */
  next(pred: (f: SseFrame) => boolean, what?: string): Promise<SseFrame>;
  res: IncomingMessage;
  close(): void;
}

/** A plain HTTP client reading a Server-Sent Events answer as it arrives. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      let buffer = '';
      const conn: SseConnection = {
        status: res.statusCode ?? 0,
        body: '',
        frames: [],
        ended: false,
        res,
        next: (pred, what) =>
          waitFor(() => conn.frames.find(pred), { what: what ?? 'an SSE frame' }),
        close: () => req.destroy(),
      };
      res.on('data', (chunk: string) => {
        conn.body += chunk;
        buffer += chunk;
        let at: number;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const frame: SseFrame = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) frame.comment = line.slice(1).trim();
            else {
              const colon = line.indexOf(':');
              const key = line.slice(0, colon) as 'id' | 'event' | 'data' | 'retry';
              frame[key] = line.slice(colon + 1).replace(/^ /, '');
            }
          }
          conn.frames.push(frame);
        }
      });
      const end = () => {
        conn.ended = true;
      };
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
      resolve(conn);
    });
    req.on('error', reject);
    req.end();
  });
}
