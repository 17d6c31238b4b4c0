import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  RtmpServerSession,
  type RtmpProtocolError,
  type RtmpPublishRequest,
  type RtmpSessionEventMap,
} from '@neon/rtmp';

export interface Recorded {
  events: { [K in keyof RtmpSessionEventMap]?: RtmpSessionEventMap[K][] };
  errors: RtmpProtocolError[];
  /** Every byte the session sent back. */
  sent: Buffer[];
  closed: Promise<void>;
}

/** A minimal host: one session per TCP connection, as apps/live wires it. */
export async function startRtmpServer(
  decide: (req: RtmpPublishRequest) => 'accept' | 'reject',
): Promise<{ port: number; connections: Recorded[]; close: () => Promise<void> }> {
  const connections: Recorded[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let onClosed!: () => void;
    const rec: Recorded = {
      events: {},
      errors: [],
      sent: [],
      closed: new Promise<void>((r) => (onClosed = r)),
    };
    connections.push(rec);
    const session = new RtmpServerSession({
      send: (b) => {
        rec.sent.push(b);
        socket.write(b);
      },
    });
    const record =
      <K extends keyof RtmpSessionEventMap>(k: K) =>
      (e: RtmpSessionEventMap[K]): void => {
        ((rec.events[k] ??= []) as RtmpSessionEventMap[K][]).push(e);
      };
    session.on('connect', record('connect'));
    session.on('metadata', record('metadata'));
    session.on('video', record('video'));
    session.on('audio', record('audio'));
    session.on('unpublish', record('unpublish'));
    session.on('publish', (req) => {
      record('publish')(req);
      // The host decides later (a key lookup): answer on a later tick.
      setImmediate(() => {
        if (decide(req) === 'accept') req.accept();
        else {
          req.reject();
          socket.end();
        }
      });
    });
    session.on('error', (err) => {
      rec.errors.push(err);
      socket.destroy();
    });
    socket.on('data', (d) => session.feed(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      session.end();
      onClosed();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
