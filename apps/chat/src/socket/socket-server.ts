import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { CHAT_MAX_FRAME_BYTES, ClientHeaders, type ErrorCode } from '@neon/contracts';
import { clientFromHeaders, fromGateway, parseRoles, type Client, type Logger } from '@neon/kit';
import { encodeFrame, encodeReply, parseFrame, type PhoenixFrame } from '../domain/phoenix.js';
import { ChatError, type ChatService } from '../rooms/chat.service.js';
import type { Member, Room } from '../rooms/room.js';
import { CurrentRoles } from './current-roles.js';
import type { SocketQuota } from './socket-quota.js';

export const SOCKET_PATH = '/socket/websocket';

export interface SocketServerOptions {
  chat: ChatService;
  logger: Logger;
  internalSecret: string;
  maxBufferedBytes: number;
  heartbeatTimeoutMs: number;
  maxJoinsPerSocket: number;
  maxSocketsPerUser: number;
  quota: SocketQuota;
}

interface Joined {
  room: Room;
  member: Member;
}

/** ws keeps the TCP socket private; broadcasts write pre-framed bytes to it directly. */
function rawSocket(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

/**
 * Who the socket belongs to. Only the gateway (holding the internal secret)
 * vouches for anyone: it passes the verified ticket's user as `id` and
 * `username` query parameters and/or X-Client-* headers. Anything else is an
 * anonymous reader.
 */
export function socketClient(req: IncomingMessage, url: URL, secret: string): Client | null {
  if (!fromGateway(req.headers, secret)) return null;
  const fromHeaders = clientFromHeaders(req.headers, secret);
  if (fromHeaders) return fromHeaders;
  const id = url.searchParams.get('id');
  const username = url.searchParams.get('username');
  if (!id || !username) return null;
  return { id, username, roles: parseRoles(req.headers[ClientHeaders.roles]) };
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** The close code of a socket whose user was suspended, changed roles or ended the session (an application code). */
export const SESSION_ENDED = 4001;
/** The close code of a socket over its user's `CHAT_MAX_SOCKETS_PER_USER` (an application code, after HTTP's 429). */
export const TOO_MANY_SOCKETS = 4029;
/** How often this replica renews its sockets in the shared count (which forgets them after 60 s). */
const QUOTA_RENEW_MS = 20_000;

class Connection {
  lastSeen = Date.now();
  readonly joins = new Map<string, Joined>();
  private readonly socket: Socket;

  constructor(
    readonly ws: WebSocket,
    readonly client: Client | null,
    private readonly server: SocketServer,
    /** The id it counts under against its user's sockets; null when not counted. */
    readonly countedAs: string | null,
  ) {
    this.socket = rawSocket(ws);
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(text: string): void {
    if (!this.open) return;
    this.ws.send(text);
    this.checkBacklog();
  }

  write(bytes: Buffer): void {
    if (!this.open) return;
    this.socket.write(bytes);
    this.checkBacklog();
  }

  private checkBacklog(): void {
    if (this.socket.writableLength > this.server.options.maxBufferedBytes) {
      this.server.options.logger.warn(
        { buffered: this.socket.writableLength, user: this.client?.id },
        'slow consumer disconnected',
      );
      this.ws.terminate();
    }
  }

  reply(f: { joinRef: string | null; ref: string | null; topic: string }, response: unknown): void {
    this.send(encodeReply(f.joinRef, f.ref, f.topic, 'ok', response));
  }

  error(
    f: { joinRef: string | null; ref: string | null; topic: string },
    code: ErrorCode,
    detail: string,
    extra?: Record<string, unknown>,
  ): void {
    this.send(encodeReply(f.joinRef, f.ref, f.topic, 'error', { ...extra, code, detail }));
  }
}

/**
 * The Phoenix Channels V2 endpoint at `/socket/websocket`: upgrades, frames,
 * heartbeats, joins and leaves; the rules live in ChatService.
 */
export class SocketServer {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private sweeper: NodeJS.Timeout | null = null;
  private readonly renewer: NodeJS.Timeout;
  private closing = false;
  private closed: Promise<void> | null = null;
  /** Role changes and suspensions heard from identity; sockets speaking for an older identity are ended. */
  readonly currentRoles = new CurrentRoles();
  /** Messages refused since start, by code, for the metrics. */
  readonly refusedMessages = new Map<string, number>();

  constructor(readonly options: SocketServerOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: CHAT_MAX_FRAME_BYTES,
      perMessageDeflate: false,
      clientTracking: false,
    });
    const every = Math.max(50, Math.min(5000, Math.floor(options.heartbeatTimeoutMs / 4)));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
    this.renewer = setInterval(() => {
      const counted = [...this.connections]
        .filter((c) => c.countedAs !== null && c.client)
        .map((c) => ({ userId: c.client!.id, socketId: c.countedAs! }));
      this.options.quota.renew(counted).catch((err: unknown) => {
        this.options.logger.warn({ err }, 'socket count renewal failed');
      });
    }, QUOTA_RENEW_MS);
    this.renewer.unref();
  }

  get size(): number {
    return this.connections.size;
  }

  /** The HTTP server's `upgrade` listener. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://chat.internal');
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== SOCKET_PATH) return refuse(404, 'Not Found');
    if (this.closing) return refuse(503, 'Service Unavailable');
    const vsn = url.searchParams.get('vsn');
    if (vsn !== null && !vsn.startsWith('2.')) return refuse(400, 'Bad Request');
    const client = socketClient(req, url, this.options.internalSecret);
    if (!client) {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, null, null));
      return;
    }
    // Counted before the upgrade completes, so a socket over the limit never reads or sends.
    const id = randomUUID();
    const { quota, maxSocketsPerUser, logger } = this.options;
    quota.acquire(client.id, id, maxSocketsPerUser).then(
      (ok) => {
        if (socket.destroyed) {
          if (ok) quota.release(client.id, id);
          return;
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => {
          if (ok) return this.accept(ws, client, id);
          // Closed after the upgrade, so a browser can read why (a refused upgrade shows it only a failed connection).
          logger.info(
            { user: client.id, max: maxSocketsPerUser },
            'socket over the per-user limit',
          );
          ws.close(TOO_MANY_SOCKETS, 'too many sockets');
          setTimeout(() => ws.terminate(), 2000).unref();
        });
      },
      // The count is a guard, not a gate: a store that does not answer lets the socket in uncounted.
      (err: unknown) => {
        logger.warn({ err }, 'socket count unavailable');
        if (!socket.destroyed)
          this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, client, null));
      },
    );
  };

  /** `countedAs`: the id the socket counts under against its user's, if it does. */
  private accept(ws: WebSocket, client: Client | null, countedAs: string | null): void {
    const conn = new Connection(ws, client, this, countedAs);
    this.connections.add(conn);
    if (this.currentRoles.stale(client)) {
      this.endSession(conn);
      return;
    }
    ws.on('message', (data: RawData, isBinary: boolean) => {
      // A closing socket (its session ended, the server stopping) takes nothing more: frames
      // the client sent before it saw the close are dropped, not stored.
      if (!conn.open) return;
      const receivedAt = performance.now();
      conn.lastSeen = Date.now();
      if (isBinary) {
        conn.error(
          { joinRef: null, ref: null, topic: 'phoenix' },
          'CHAT_INVALID_MESSAGE',
          'Binary frames are not spoken here.',
        );
        return;
      }
      this.onText(conn, textOf(data), receivedAt).catch((err: unknown) => {
        this.options.logger.error({ err }, 'socket message handling failed');
      });
    });
    ws.on('error', (err) => this.options.logger.debug({ err: err.message }, 'socket error'));
    ws.on('close', () => this.dropped(conn));
  }

  private dropped(conn: Connection): void {
    this.connections.delete(conn);
    if (conn.countedAs !== null && conn.client)
      this.options.quota.release(conn.client.id, conn.countedAs);
    for (const j of conn.joins.values()) this.options.chat.leave(j.room, j.member);
    conn.joins.clear();
  }

  private async onText(conn: Connection, text: string, receivedAt: number): Promise<void> {
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      conn.error(
        parsed,
        'CHAT_INVALID_MESSAGE',
        'Frames are JSON arrays [join_ref, ref, topic, event, payload].',
      );
      return;
    }
    const f = parsed.frame;
    try {
      await this.dispatch(conn, f, receivedAt);
    } catch (err) {
      if (err instanceof ChatError) {
        if (f.event === 'shout')
          this.refusedMessages.set(err.code, (this.refusedMessages.get(err.code) ?? 0) + 1);
        conn.error(f, err.code, err.message, err.extra);
      } else {
        this.options.logger.error({ err, event: f.event }, 'socket event failed');
        conn.error(f, 'CHAT_UNAVAILABLE', 'Something went wrong; try again.');
      }
    }
  }

  private async dispatch(conn: Connection, f: PhoenixFrame, receivedAt: number): Promise<void> {
    const { chat } = this.options;
    if (f.topic === 'phoenix') {
      if (f.event === 'heartbeat') return conn.reply(f, {});
      throw new ChatError('CHAT_UNKNOWN_EVENT', `Unknown event ${f.event} on phoenix.`);
    }
    // Checked on every use: the socket may have been opened with a ticket minted before a demotion.
    if (this.currentRoles.stale(conn.client)) return this.endSession(conn);
    if (f.event === 'phx_join') return this.join(conn, f);
    const joined = conn.joins.get(f.topic);
    if (!joined) throw new ChatError('CHAT_NOT_JOINED', `Join ${f.topic} first.`);
    switch (f.event) {
      case 'shout': {
        if (this.closing) throw new ChatError('CHAT_UNAVAILABLE', 'The server is restarting.');
        const id = await chat.shout(joined.room, conn.client, f.payload, receivedAt);
        return conn.reply(f, { id });
      }
      case 'moderate':
        await chat.moderate(joined.room, conn.client, f.payload);
        return conn.reply(f, {});
      case 'phx_leave':
        chat.leave(joined.room, joined.member);
        conn.joins.delete(f.topic);
        conn.reply(f, {});
        return conn.send(encodeFrame(f.joinRef, f.ref, f.topic, 'phx_close', {}));
      default:
        throw new ChatError('CHAT_UNKNOWN_EVENT', `Unknown event ${f.event}.`);
    }
  }

  private async join(conn: Connection, f: PhoenixFrame): Promise<void> {
    const { chat, maxJoinsPerSocket } = this.options;
    const room = await chat.room(f.topic);
    // A second join of the same topic replaces the first, as Phoenix does.
    const previous = conn.joins.get(f.topic);
    if (previous) {
      chat.leave(previous.room, previous.member);
      conn.joins.delete(f.topic);
    }
    // With no wait between this check and the join's registration, joins in flight together
    // cannot all pass it; a rejoin, its previous join gone, counts once.
    if (conn.joins.size >= maxJoinsPerSocket)
      throw new ChatError(
        'CHAT_TOO_MANY_JOINS',
        `A socket may be in ${maxJoinsPerSocket} rooms at once; leave one first.`,
      );
    const member: Member = { joinRef: f.joinRef, held: null, write: (bytes) => conn.write(bytes) };
    // Registered before the history is read, so a second join arriving
    // meanwhile supersedes this one instead of leaving a stray member behind.
    conn.joins.set(f.topic, { room, member });
    const current = () => conn.joins.get(f.topic)?.member === member;
    let reply;
    try {
      reply = await chat.join(room, member, conn.client, f.payload);
    } catch (err) {
      if (current()) conn.joins.delete(f.topic);
      throw err;
    }
    if (!conn.open || !current()) {
      chat.leave(room, member);
      conn.reply(f, reply);
      return;
    }
    conn.reply(f, reply);
    chat.release(member, reply.history);
  }

  private sweep(): void {
    const deadline = Date.now() - this.options.heartbeatTimeoutMs;
    for (const conn of this.connections) {
      if (conn.lastSeen >= deadline) continue;
      this.options.logger.debug({ user: conn.client?.id }, 'socket missed its heartbeats');
      conn.ws.close(1001, 'heartbeat timeout');
      setTimeout(() => conn.ws.terminate(), 2000).unref();
    }
  }

  /**
   * Ends the sockets a user opened under an identity that no longer holds
   * (every one, unless `keep` accepts the roles a socket was opened with),
   * with 4001 and `session ended`: the client opens a new one with a new
   * ticket, which says who they are now. Returns how many ended.
   */
  endSessions(userId: string, keep: (roles: readonly string[]) => boolean = () => false): number {
    return this.endWhere((c) => c.id === userId && !keep(c.roles));
  }

  /** Ends, with 4001, the sockets opened with a ticket of one of these sessions (a logout, a password change). */
  endSessionIds(sessionIds: readonly string[]): number {
    const ids = new Set(sessionIds);
    return this.endWhere((c) => c.sessionId !== undefined && ids.has(c.sessionId));
  }

  private endWhere(ends: (client: Client) => boolean): number {
    let ended = 0;
    for (const conn of this.connections) {
      if (!conn.client || !conn.open || !ends(conn.client)) continue;
      this.endSession(conn);
      ended++;
    }
    return ended;
  }

  private endSession(conn: Connection): void {
    for (const j of conn.joins.values()) this.options.chat.leave(j.room, j.member);
    conn.joins.clear();
    conn.ws.close(SESSION_ENDED, 'session ended');
    setTimeout(() => conn.ws.terminate(), 2000).unref();
  }

  /**
   * Stops taking sockets and messages, lets accepted messages become durable
   * and reach their rooms, then closes every socket with 1012 (service
   * restart) so clients reconnect to another replica.
   */
  close(): Promise<void> {
    this.closed ??= this.closeAll();
    return this.closed;
  }

  private async closeAll(): Promise<void> {
    this.closing = true;
    if (this.sweeper) clearInterval(this.sweeper);
    clearInterval(this.renewer);
    await this.options.chat.writer.drain();
    this.options.chat.flushRooms();
    const all = [...this.connections];
    for (const conn of all) conn.ws.close(1012, 'service restart');
    const deadline = Date.now() + 2000;
    while (this.connections.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const conn of this.connections) conn.ws.terminate();
    this.wss.close();
  }
}
