import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { Socket } from 'node:net';
import { problemResponse } from '@neon/kit';
import { readRequestHead, type RequestHead } from './request-head.js';
import { DoorResponse, type AnswerSink } from './response.js';

/** A request the front door read itself. */
export interface DoorRequest {
  method: RequestHead['method'];
  url: string;
  headers: IncomingHttpHeaders;
  socket: Socket;
}

export interface FrontDoorOptions {
  /**
   * Takes a request (true), or leaves it and the rest of its connection to
   * node's `http` server (false), which then parses it from its first byte.
   */
  handle(req: DoorRequest, res: DoorResponse): boolean;
}

/** Bytes of pipelined requests held while an answer is in progress before the client is paused. */
const MAX_HELD = 64 * 1024;

type ConnectionListener = (this: Server, socket: Socket) => void;

/**
 * The gateway's public side, in front of node's `http` server. A connection
 * starts here: each request whose head the front door reads (see
 * `readRequestHead`: bodiless, strictly formed) and the handler takes is
 * answered on the socket directly, with no `IncomingMessage`,
 * `ServerResponse` or stream machinery per request. At the first request it
 * does not read or the handler leaves, the connection goes to node's server
 * for good, with the bytes of that request, and node parses it as if it had
 * had the connection from the start. So requests with bodies, upgrades,
 * malformed input and everything Fastify answers take node's path unchanged.
 */
export class FrontDoor {
  private readonly connections = new Set<DoorConnection>();
  private readonly toNode: ConnectionListener[];
  private closing = false;
  readonly keepAliveHeader: string;
  readonly keepAliveTimeoutMs: number;
  readonly headersTimeoutMs: number;

  constructor(
    readonly server: Server,
    readonly options: FrontDoorOptions,
  ) {
    this.toNode = server.listeners('connection') as ConnectionListener[];
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => this.accept(socket));
    this.keepAliveTimeoutMs = server.keepAliveTimeout;
    this.headersTimeoutMs = server.headersTimeout;
    this.keepAliveHeader = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(
      server.keepAliveTimeout / 1000,
    )}\r\n`;
  }

  private accept(socket: Socket): void {
    if (this.closing) return this.handOff(socket, null);
    const connection = new DoorConnection(this, socket);
    this.connections.add(connection);
  }

  /** The server is closing: idle connections end now, busy ones after their answer. */
  close(): void {
    this.closing = true;
    for (const c of this.connections) c.closeWhenIdle();
  }

  get isClosing(): boolean {
    return this.closing;
  }

  forget(connection: DoorConnection): void {
    this.connections.delete(connection);
  }

  handOff(socket: Socket, bytes: Buffer | null): void {
    if (socket.isPaused()) socket.resume();
    for (const listener of this.toNode) listener.call(this.server, socket);
    // node's parser was attached above: it reads these bytes first, then the socket.
    if (bytes !== null && bytes.length > 0) socket.emit('data', bytes);
  }
}

/** One client connection while the front door holds it. */
class DoorConnection implements AnswerSink {
  /** Bytes read and not yet handled: the next request, or part of it. */
  private held: Buffer | null = null;
  private busy: DoorResponse | null = null;
  /** When the current partial head began (for the head timeout). */
  private headSince = 0;
  private closeAfter = false;
  private gone = false;
  /** The client half-closed: no request follows the one in progress. */
  private ended = false;
  readonly keepAliveHeader: string;

  constructor(
    private readonly door: FrontDoor,
    readonly socket: Socket,
  ) {
    this.keepAliveHeader = door.keepAliveHeader;
    socket.setNoDelay(true);
    socket.setTimeout(door.keepAliveTimeoutMs);
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('timeout', this.onTimeout);
    socket.on('close', this.onClose);
    socket.on('end', this.onEnd);
    socket.on('error', onSocketError);
  }

  private readonly onData = (chunk: Buffer): void => {
    // Ended by the door (Connection: close, a timeout): what the client still sends is not read.
    if (this.gone) return;
    if (this.held === null) this.held = chunk;
    else this.held = Buffer.concat([this.held, chunk]);
    if (this.busy !== null) {
      // Pipelined: held until the answer in progress is out.
      if (this.held.length > MAX_HELD) this.socket.pause();
      return;
    }
    this.next();
  };

  private readonly onDrain = (): void => {
    this.busy?.drained();
  };

  private readonly onTimeout = (): void => {
    // An answer in progress is the upstream's to time out (a held-open stream may idle for long).
    if (this.busy !== null) return;
    if (this.headSince !== 0 && !this.gone)
      this.close(problemResponse('REQUEST_TIMEOUT', randomUUID()));
    else this.socket.destroy();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    if (this.busy === null) this.close();
  };

  private readonly onClose = (): void => {
    this.gone = true;
    this.door.forget(this);
    this.busy?.clientGone();
  };

  /** Handles held requests until one is in progress, partial, or not the front door's. */
  private next(): void {
    while (this.held !== null && this.busy === null && !this.gone) {
      const bytes = this.held;
      const head = readRequestHead(bytes);
      if (this.headSince !== 0 && performance.now() - this.headSince > this.door.headersTimeoutMs)
        // Too slow, whether or not these bytes complete it (a slowloris finishes eventually).
        return this.close(problemResponse('REQUEST_TIMEOUT', randomUUID()));
      if (head === 'partial') {
        if (this.headSince === 0) {
          this.headSince = performance.now();
          // A client that falls silent mid-head hears the same 408 when the timeout passes.
          this.socket.setTimeout(this.door.headersTimeoutMs);
        }
        return;
      }
      if (this.headSince !== 0) {
        this.headSince = 0;
        this.socket.setTimeout(this.door.keepAliveTimeoutMs);
      }
      if (head === null || this.door.isClosing) return this.leave(bytes);
      const res = new DoorResponse(this, head.method === 'HEAD', head.keepAlive);
      const req: DoorRequest = {
        method: head.method,
        url: head.url,
        headers: head.headers,
        socket: this.socket,
      };
      this.busy = res;
      this.held = head.end < bytes.length ? bytes.subarray(head.end) : null;
      let taken: boolean;
      try {
        taken = this.door.options.handle(req, res);
      } catch {
        // Node's path answers it (Fastify's error handling included).
        taken = false;
      }
      if (!taken) {
        this.busy = null;
        return this.leave(bytes);
      }
    }
  }

  finished(res: DoorResponse): void {
    if (this.busy !== res) return;
    this.busy = null;
    if (!res.keepAlive || this.closeAfter || this.ended || this.door.isClosing) {
      this.close();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    if (this.held !== null) this.next();
  }

  closeWhenIdle(): void {
    if (this.busy === null) this.close();
    else this.closeAfter = true;
  }

  private close(last?: string): void {
    this.door.forget(this);
    this.gone = true;
    this.held = null;
    if (last === undefined) this.socket.end();
    else this.socket.end(last);
  }

  /** Gives the connection to node's server from `bytes` (a request it parses from its first byte). */
  private leave(bytes: Buffer): void {
    this.door.forget(this);
    this.held = null;
    const socket = this.socket;
    socket.removeListener('data', this.onData);
    socket.removeListener('drain', this.onDrain);
    socket.removeListener('timeout', this.onTimeout);
    socket.removeListener('close', this.onClose);
    socket.removeListener('end', this.onEnd);
    socket.removeListener('error', onSocketError);
    socket.setTimeout(0);
    this.door.handOff(socket, bytes);
  }
}

/** A reset or broken pipe: 'close' follows and does the cleaning up. */
function onSocketError(): void {}
