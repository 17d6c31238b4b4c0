import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** Hears what the client side does to an answer in progress. */
export interface ResponseWatcher {
  /** The client went away before the answer was written. */
  clientClosed(): void;
  /** A `write` that returned false can go on. */
  drained(): void;
}

/**
 * What the fast path writes an answer to: node's `ServerResponse` (wrapped)
 * or the front door's own writer. Header names are lower-case, flat
 * `[name, value, …]`; framing (Content-Length, else chunked) as node frames it.
 */
export interface FastResponse {
  readonly statusCode: number;
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  writeHead(status: number, headers: string[]): void;
  write(chunk: Buffer): boolean;
  end(body?: Buffer): void;
  destroy(): void;
  watch(watcher: ResponseWatcher): void;
}

/** The connection an answer belongs to (see FrontDoor). */
export interface AnswerSink {
  readonly socket: Socket;
  readonly keepAliveHeader: string;
  finished(res: DoorResponse): void;
}

const LAST_CHUNK = Buffer.from('0\r\n\r\n');
const CRLF = Buffer.from('\r\n');

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (statusLines.size < 128) statusLines.set(status, line);
  }
  return line;
}

let date = '';
let dateUntil = 0;
/** The Date header, formatted once a second as node does. */
function httpDate(): string {
  const now = Date.now();
  if (now >= dateUntil) {
    date = new Date(now).toUTCString();
    dateUntil = now - (now % 1000) + 1000;
  }
  return date;
}

/**
 * One answer written straight to the client's socket: the head is held until
 * the first body bytes so that a small answer leaves in one write, as node's
 * `ServerResponse` sends it.
 *
 * Unlike node's, it does not check header characters one by one: headers
 * come from the gateway's own code or from an upstream head the upstream
 * client already refused if it held a control character or a stray CR or LF.
 */
export class DoorResponse implements FastResponse {
  statusCode = 200;
  headersSent = false;
  destroyed = false;
  /** Whether the connection stays open after this answer. */
  keepAlive: boolean;
  private head: string | null = null;
  private chunked = false;
  private bodyless = false;
  private done = false;
  private watcher: ResponseWatcher | null = null;

  constructor(
    private readonly sink: AnswerSink,
    private readonly isHead: boolean,
    keepAlive: boolean,
  ) {
    this.keepAlive = keepAlive;
  }

  watch(watcher: ResponseWatcher): void {
    this.watcher = watcher;
  }

  writeHead(status: number, headers: string[]): void {
    let head = statusLine(status);
    let length = false;
    let dated = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      if (name === 'connection') {
        if (value.toLowerCase().includes('close')) this.keepAlive = false;
        continue;
      }
      if (name === 'transfer-encoding' || name === 'keep-alive') continue;
      if (name === 'content-length') length = true;
      else if (name === 'date') dated = true;
      head += `${name}: ${value}\r\n`;
    }
    this.bodyless = this.isHead || status === 204 || status === 304 || status < 200;
    if (!this.bodyless && !length) {
      this.chunked = true;
      head += 'transfer-encoding: chunked\r\n';
    }
    // As node's: the upstream's Date when it sent one, else ours (never two).
    if (!dated) head += `date: ${httpDate()}\r\n`;
    head += this.keepAlive ? this.sink.keepAliveHeader : 'connection: close\r\n';
    this.head = `${head}\r\n`;
    this.statusCode = status;
    this.headersSent = true;
  }

  write(chunk: Buffer): boolean {
    if (this.destroyed || this.done) return false;
    if (this.bodyless || chunk.length === 0) return this.flushHead();
    const socket = this.sink.socket;
    if (!this.chunked) return this.send(chunk);
    socket.cork();
    this.flushHead();
    socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    socket.write(chunk);
    const more = socket.write(CRLF);
    socket.uncork();
    return more;
  }

  end(body?: Buffer): void {
    if (this.destroyed || this.done) return;
    // Not `head === null`: that is also true once a streamed answer's head has gone out.
    if (!this.headersSent) this.writeHead(this.statusCode, []);
    const socket = this.sink.socket;
    if (this.bodyless || !body || body.length === 0) {
      if (this.chunked) this.send(LAST_CHUNK);
      else this.flushHead();
    } else if (this.chunked) {
      socket.cork();
      this.write(body);
      socket.write(LAST_CHUNK);
      socket.uncork();
    } else this.send(body);
    this.done = true;
    this.sink.finished(this);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.sink.socket.destroy();
  }

  /** The client's socket closed: an answer still in progress is abandoned. */
  clientGone(): void {
    if (this.done) return;
    this.destroyed = true;
    this.watcher?.clientClosed();
  }

  drained(): void {
    if (!this.done) this.watcher?.drained();
  }

  /** Writes the held head (if any) with `bytes` in one buffer: one write per small answer. */
  private send(bytes: Buffer): boolean {
    const head = this.head;
    if (head === null) return this.sink.socket.write(bytes);
    this.head = null;
    const out = Buffer.allocUnsafe(head.length + bytes.length);
    out.write(head, 0, 'latin1');
    bytes.copy(out, head.length);
    return this.sink.socket.write(out);
  }

  private flushHead(): boolean {
    const head = this.head;
    if (head === null) return true;
    this.head = null;
    return this.sink.socket.write(head, 'latin1');
  }
}
