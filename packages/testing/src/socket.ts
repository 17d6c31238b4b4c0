import { WebSocket } from 'ws';

export type SocketOutcome =
  | { ok: true; ws: WebSocket; /** The first frame, when asked to wait for it. */ first: string }
  | { ok: false; status: number; body: string };

/**
 * Opens a WebSocket and resolves with the socket once it is open (or once its
 * first frame arrived, with `firstFrame`), or with the HTTP answer that
 * refused the upgrade, so a test can assert either.
 */
export function openSocket(
  url: string,
  options: { protocols?: string[]; firstFrame?: boolean; origin?: string } = {},
): Promise<SocketOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      url,
      options.protocols,
      options.origin !== undefined ? { origin: options.origin } : {},
    );
    if (options.firstFrame)
      ws.once('message', (data) => resolve({ ok: true, ws, first: (data as Buffer).toString() }));
    else ws.once('open', () => resolve({ ok: true, ws, first: '' }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ ok: false, status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (err) => {
      if (ws.readyState !== WebSocket.CLOSED) reject(err);
    });
  });
}
