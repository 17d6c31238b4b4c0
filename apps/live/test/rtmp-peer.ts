import { connect, type Socket } from 'node:net';
import { serverMessages } from '@neon/rtmp/testing';

/** A raw TCP peer of the RTMP port that records what the server sends and whether it closed. */
export interface RtmpPeer {
  socket: Socket;
  received: Buffer[];
  /** Resolves when the server (or the network) closed the connection. */
  closed: Promise<void>;
  isClosed(): boolean;
}

/** Connects to the RTMP port, from `localAddress` when given (any 127.x.y.z works on Linux). */
export async function openPeer(port: number, localAddress?: string): Promise<RtmpPeer> {
  const socket = connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
  const received: Buffer[] = [];
  let closedFlag = false;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closedFlag = true;
      resolve();
    }),
  );
  socket.on('data', (d: Buffer) => received.push(d));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
  return { socket, received, closed, isClosed: () => closedFlag };
}

/** Waits for the server to close `peer`; fails after `ms` so a hang is a failure, not a stuck run. */
export async function closedWithin(peer: RtmpPeer, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([peer.closed.then(() => true as const), timeout]);
  clearTimeout(timer);
  return result;
}

export interface StatusReply {
  level: string;
  code: string;
  description: string;
}

/** Every onStatus / _error info object the server sent so far, in order. */
export function statusReplies(received: Buffer[]): StatusReply[] {
  let messages;
  try {
    messages = serverMessages(received);
  } catch {
    return []; // a partial message: wait for more
  }
  const out: StatusReply[] = [];
  for (const m of messages) {
    const values = m.values;
    if (!values || (values[0] !== 'onStatus' && values[0] !== '_error')) continue;
    const info = values[3];
    if (info && typeof info === 'object' && !Array.isArray(info)) {
      const o = info as Record<string, unknown>;
      out.push({
        level: String(o.level),
        code: String(o.code),
        description: String(o.description),
      });
    }
  }
  return out;
}

/** Waits until `check` holds (re-checked on every read) or the connection closes or `ms` pass. */
export async function waitFor(peer: RtmpPeer, check: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (check()) return true;
    } catch {
      // a partial message: wait for more
    }
    if (peer.isClosed() || Date.now() > deadline) return false;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        peer.socket.off('data', done);
        peer.socket.off('close', done);
        resolve();
      };
      const t = setTimeout(done, 50);
      peer.socket.on('data', done);
      peer.socket.on('close', done);
    });
  }
}

/** Waits until a status reply matching `match` arrives; undefined when the connection closed first. */
export async function waitForStatus(
  peer: RtmpPeer,
  match: (s: StatusReply) => boolean,
  ms = 10_000,
): Promise<StatusReply | undefined> {
  let found: StatusReply | undefined;
  await waitFor(
    peer,
    () => {
      found = statusReplies(peer.received).find(match);
      return found !== undefined;
    },
    ms,
  );
  // The reply may have come with the close.
  return found ?? statusReplies(peer.received).find(match);
}
