import { connect, type Socket } from 'node:net';
import { connectionTokens, dropNamed } from '../proxy/headers.js';

/**
 * What a response exchange reports. Header names arrive lower-cased, values
 * as sent; the body arrives de-chunked.
 */
export interface ExchangeHandler {
  /** The status line and headers are in. */
  onHead(status: number, headers: string[], hasBody: boolean): void;
  /**
   * A piece of the body, the handler's to keep. Returns false to pause the
   * upstream until `resume()` is called.
   */
  onData(chunk: Buffer): boolean;
  onEnd(): void;
  /**
   * The exchange failed. `replayable` when not one byte of an answer came
   * back on a connection that had served before: the upstream had closed it
   * idle, and the same request may go again on a fresh one.
   */
  onError(err: UpstreamError): void;
}

export type UpstreamErrorKind = 'connect' | 'stale' | 'timeout' | 'protocol' | 'closed';

export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamErrorKind,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/** The longest response head accepted from an upstream. */
const MAX_HEAD = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
/**
 * A byte no header may hold (node's rule for values: controls but tab, DEL),
 * or a CR or LF that is not a line's CRLF: what could split the answer the
 * gateway writes on to its client. Checked once over the whole head.
 */
const UNSAFE_HEAD = /[^\t\r\n\x20-\x7e\x80-\xff]|\r(?!\n)|(?<!\r)\n/;
/** A field name (RFC 9110 §5.1), lower-cased: what node's own parser accepts, no white space before the colon. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
/** `HTTP/1.x SP 3DIGIT [SP reason]` (RFC 9112 §4); node's parser also takes no reason at all. */
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;
/** A Content-Length is digits only: no sign, list, hex or white space (node's parser agrees). */
const DIGITS = /^\d+$/;
/**
 * A chunk size line: hex digits, then extensions of token names and token or
 * quoted values, no white space (stricter than RFC 9112 §7.1.1's BWS; node
 * refuses white space there too). Extensions are read and ignored.
 */
const CHUNK_LINE =
  /^([0-9a-fA-F]{1,12})((?:;[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:=(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]*"))?)*)$/;
/** A trailer field line: read and dropped, but it must be one. */
const TRAILER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*$/;

/** Removes optional white space (spaces and tabs only, RFC 9110 §5.6.3) around a field value. */
function trimOws(value: string): string {
  let from = 0;
  let to = value.length;
  while (from < to && (value.charCodeAt(from) === 0x20 || value.charCodeAt(from) === 0x09)) from++;
  while (to > from && (value.charCodeAt(to - 1) === 0x20 || value.charCodeAt(to - 1) === 0x09))
    to--;
  return from === 0 && to === value.length ? value : value.slice(from, to);
}

/**
 * The one buffer every upstream connection reads into (node's `onread`): a
 * read is handled before the next one starts, so nothing allocates per read.
 * What outlives the read (a partial head, body bytes) is copied out of it.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

const enum Body {
  None,
  Length,
  Chunked,
  UntilClose,
}

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailers,
}

/** One keep-alive connection to an upstream; one exchange at a time (no pipelining). */
class Connection {
  readonly socket: Socket;
  private handler: ExchangeHandler | null = null;
  private head = false;
  private pending: Buffer | null = null;
  private body = Body.None;
  private remaining = 0;
  private chunk = Chunk.Size;
  private keepAlive = true;
  private served = 0;
  private gotBytes = false;
  private connected = false;
  /** The answer to a HEAD request has headers only, whatever they announce. */
  private isHeadRequest = false;
  private timer: NodeJS.Timeout | null = null;
  idleSince = 0;

  constructor(
    private readonly pool: Http1Pool,
    port: number,
    host: string,
  ) {
    this.socket = connect({
      port,
      host,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n) => {
          this.data(READ_BUFFER.subarray(0, n));
          // Pausing is the parser's own call (backpressure), never the read's.
          return true;
        },
      },
    });
    this.socket.once('connect', () => {
      this.connected = true;
    });
    // Only a FIN ends a read-until-close body; a reset (or any error) cuts it short.
    this.socket.on('end', () => this.closed(null, true));
    this.socket.on('close', () => this.closed(null, false));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.closed(err, false));
  }

  send(head: string, handler: ExchangeHandler, isHead: boolean, timeoutMs: number): void {
    this.handler = handler;
    this.head = true;
    this.gotBytes = false;
    this.keepAlive = true;
    this.isHeadRequest = isHead;
    if (timeoutMs > 0) this.timer = setTimeout(this.timeout, timeoutMs);
    this.socket.write(head, 'latin1');
  }

  /** The client left: this connection's exchange is abandoned, and so is the connection. */
  abort(): void {
    this.handler = null;
    this.clearTimer();
    this.socket.destroy();
  }

  resume(): void {
    this.socket.resume();
  }

  private readonly timeout = (): void => {
    this.timer = null;
    const h = this.handler;
    this.handler = null;
    this.socket.destroy();
    h?.onError(new UpstreamError('timeout', 'upstream did not answer in time'));
  };

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private closed(err: NodeJS.ErrnoException | null, clean: boolean): void {
    this.pool.forget(this);
    this.clearTimer();
    const h = this.handler;
    if (!h) return;
    this.handler = null;
    if (!this.head && this.body === Body.UntilClose) {
      if (clean) h.onEnd();
      else
        h.onError(
          new UpstreamError('closed', err?.message ?? 'upstream reset mid-answer', err?.code),
        );
      return;
    }
    if (!this.connected)
      h.onError(
        new UpstreamError(
          'connect',
          err?.message ?? 'connection refused',
          err?.code ?? 'ECONNREFUSED',
        ),
      );
    else if (!this.gotBytes && this.served > 0)
      h.onError(new UpstreamError('stale', 'idle connection closed by the upstream', err?.code));
    else
      h.onError(
        new UpstreamError('closed', err?.message ?? 'upstream closed the connection', err?.code),
      );
  }

  private fail(message: string): void {
    const h = this.handler;
    this.handler = null;
    this.clearTimer();
    this.socket.destroy();
    h?.onError(new UpstreamError('protocol', message));
  }

  private data(d: Buffer): void {
    if (!this.handler) {
      // Bytes nobody asked for: this connection's framing cannot be trusted.
      this.socket.destroy();
      return;
    }
    this.gotBytes = true;
    let b = d;
    // A loop: interim answers (100 Continue, 103 Early Hints) come before the real head.
    while (this.head) {
      if (this.pending) {
        b = Buffer.concat([this.pending, b]);
        this.pending = null;
      }
      const end = b.indexOf(HEAD_END);
      if (end < 0) {
        if (b.length > MAX_HEAD) return this.fail('response head too large');
        this.pending = Buffer.from(b);
        return;
      }
      if (!this.parseHead(b.toString('latin1', 0, end))) return;
      b = b.subarray(end + 4);
      if (this.handler === null) return;
      if (!this.head && this.body === Body.None) {
        if (b.length > 0) return this.fail('body after a bodiless answer');
        return this.finish();
      }
    }
    this.feed(b);
  }

  /**
   * Parses the status line and headers, tells the handler, and sets the body
   * framing by RFC 9112 §6.3. Whatever it cannot frame with certainty fails
   * the exchange (502) and drops the connection: a length that is not digits,
   * two lengths, a transfer coding other than a lone `chunked` (the gateway
   * re-frames the body and cannot decode any other), `Transfer-Encoding` in an
   * HTTP/1.0 answer, a 101 it never asked for.
   */
  private parseHead(text: string): boolean {
    if (UNSAFE_HEAD.test(text)) {
      this.fail('control characters in the response head');
      return false;
    }
    const lineEnd = text.indexOf('\r\n');
    const status = STATUS_LINE.exec(lineEnd < 0 ? text : text.slice(0, lineEnd));
    if (!status) {
      this.fail('bad status line');
      return false;
    }
    const code = Number(status[2]);
    if (code === 101) {
      this.fail('an upgrade nobody asked for');
      return false;
    }
    const http10 = status[1] === '0';
    if (http10) this.keepAlive = false;
    const headers: string[] = [];
    let length = -1;
    let codings: string | null = null;
    let options: string[] | null = null;
    let at = lineEnd < 0 ? text.length : lineEnd + 2;
    while (at < text.length) {
      let next = text.indexOf('\r\n', at);
      if (next < 0) next = text.length;
      const colon = text.indexOf(':', at);
      if (colon < 0 || colon > next) {
        this.fail('bad header line');
        return false;
      }
      const name = text.slice(at, colon).toLowerCase();
      if (!FIELD_NAME.test(name)) {
        this.fail('bad header name');
        return false;
      }
      const value = trimOws(text.slice(colon + 1, next));
      at = next + 2;
      if (name === 'content-length') {
        // One length, digits only: node's parser refuses even two equal ones.
        if (!DIGITS.test(value) || length >= 0 || !Number.isSafeInteger(Number(value))) {
          this.fail('bad content-length');
          return false;
        }
        length = Number(value);
      } else if (name === 'transfer-encoding') {
        // Several fields are one list (RFC 9110 §5.3).
        codings = codings === null ? value : `${codings},${value}`;
        continue;
      } else if (name === 'connection') {
        for (const t of connectionTokens(value)) {
          if (t === 'close') this.keepAlive = false;
          else if (t !== 'keep-alive') (options ??= []).push(t);
        }
        continue;
      } else if (name === 'keep-alive') continue;
      headers.push(name, value);
    }
    // An interim answer (100 Continue, 103 Early Hints), checked as any head, precedes the real one.
    if (code < 200) return true;
    let chunked = false;
    if (codings !== null) {
      if (http10 || trimOws(codings).toLowerCase() !== 'chunked') {
        this.fail('unsupported transfer-encoding');
        return false;
      }
      chunked = true;
    }
    // Named in Connection: for this hop only (RFC 9110 §7.6.1), never passed on. A length a
    // chunked body overrides is dropped (RFC 9112 §6.3): the gateway frames the body itself.
    if (chunked && length >= 0) (options ??= []).push('content-length');
    if (options !== null) dropNamed(headers, options);
    this.head = false;
    this.clearTimer();
    if (this.isHeadRequest || code === 204 || code === 304) this.body = Body.None;
    else if (chunked) {
      // Transfer-Encoding overrides Content-Length, which is dropped (RFC 9112 §6.3).
      this.body = Body.Chunked;
      this.chunk = Chunk.Size;
    } else if (length >= 0) {
      this.body = length === 0 ? Body.None : Body.Length;
      this.remaining = length;
    } else {
      this.body = Body.UntilClose;
      this.keepAlive = false;
    }
    const h = this.handler!;
    h.onHead(code, headers, this.body !== Body.None);
    return true;
  }

  private feed(b: Buffer): void {
    switch (this.body) {
      case Body.Length: {
        if (b.length === 0) return;
        if (b.length > this.remaining) return this.fail('more body than content-length');
        this.remaining -= b.length;
        const more = this.handler!.onData(Buffer.from(b));
        if (this.remaining === 0) return this.finish();
        if (!more) this.socket.pause();
        return;
      }
      case Body.UntilClose:
        if (b.length > 0 && !this.handler!.onData(Buffer.from(b))) this.socket.pause();
        return;
      case Body.Chunked:
        return this.chunked(b);
      case Body.None:
        if (b.length > 0) this.fail('body after a bodiless answer');
    }
  }

  /** De-chunks what arrived; a partial size line waits in `pending` for the next read. */
  private chunked(input: Buffer): void {
    let b = this.pending ? Buffer.concat([this.pending, input]) : input;
    this.pending = null;
    let more = true;
    while (b.length > 0) {
      if (this.chunk === Chunk.Size || this.chunk === Chunk.Trailers) {
        const eol = b.indexOf(CRLF);
        if (eol < 0) {
          if (b.length > 4096) return this.fail('chunk line too long');
          this.pending = Buffer.from(b);
          break;
        }
        const line = b.toString('latin1', 0, eol);
        b = b.subarray(eol + 2);
        if (this.chunk === Chunk.Trailers) {
          if (line.length === 0) {
            // The answer ends here: a byte after it means the upstream framed it otherwise.
            if (b.length > 0) return this.fail('bytes after the end of a chunked answer');
            return this.finish();
          }
          if (!TRAILER_LINE.test(line)) return this.fail('bad trailer line');
          continue;
        }
        const size = CHUNK_LINE.exec(line);
        if (!size) return this.fail('bad chunk size');
        this.remaining = parseInt(size[1]!, 16);
        this.chunk = this.remaining === 0 ? Chunk.Trailers : Chunk.Data;
      } else if (this.chunk === Chunk.Data) {
        const take = Math.min(this.remaining, b.length);
        more = this.handler!.onData(Buffer.from(b.subarray(0, take))) && more;
        if (!this.handler) return;
        this.remaining -= take;
        b = b.subarray(take);
        if (this.remaining === 0) this.chunk = Chunk.DataEnd;
      } else {
        if (b.length < 2) {
          this.pending = Buffer.from(b);
          break;
        }
        if (b[0] !== 0x0d || b[1] !== 0x0a) return this.fail('chunk without CRLF');
        b = b.subarray(2);
        this.chunk = Chunk.Size;
      }
    }
    if (!more) this.socket.pause();
  }

  private finish(): void {
    const h = this.handler!;
    this.handler = null;
    this.pending = null;
    this.served++;
    if (this.keepAlive) this.pool.release(this);
    else this.socket.destroy();
    h.onEnd();
  }
}

export interface Http1PoolOptions {
  /** Idle connections kept open at most. */
  maxIdle: number;
  /** An idle connection is closed after this, before the upstream's own keep-alive timeout. */
  idleTimeoutMs: number;
}

/** A started exchange: `abort` when the client goes, `resume` after backpressure. */
export interface Exchange {
  abort(): void;
  resume(): void;
}

/**
 * Keep-alive HTTP/1.1 connections to one of our own upstreams, for the
 * gateway's bodiless fast path. It writes a request head prepared by the
 * caller and parses the answer with the rules a proxy needs (RFC 9112: status,
 * headers, Content-Length or chunked framing, Connection and its hop-by-hop
 * options). It is not a general client: the upstreams are Neon services, and
 * what it cannot frame as node's own parser would, it refuses
 * (`test/http1.test.ts` compares the two).
 */
export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private sweeper: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly options: Http1PoolOptions,
  ) {}

  /** Sends `head` (a complete request head, no body) on an idle connection or a new one. */
  request(
    head: string,
    handler: ExchangeHandler,
    isHead: boolean,
    timeoutMs: number,
    fresh = false,
  ): Exchange {
    if (this.closed) {
      handler.onError(new UpstreamError('connect', 'pool closed', 'ECONNREFUSED'));
      return { abort() {}, resume() {} };
    }
    let conn = fresh ? undefined : this.idle.pop();
    if (!conn) {
      conn = new Connection(this, this.port, this.host);
      this.all.add(conn);
    }
    conn.send(head, handler, isHead, timeoutMs);
    return conn;
  }

  release(conn: Connection): void {
    if (this.closed || this.idle.length >= this.options.maxIdle) {
      conn.socket.destroy();
      return;
    }
    conn.idleSince = Date.now();
    this.idle.push(conn);
    this.sweeper ??= setInterval(this.sweep, Math.max(250, this.options.idleTimeoutMs / 2));
    this.sweeper.unref();
  }

  forget(conn: Connection): void {
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
  }

  private readonly sweep = (): void => {
    const cutoff = Date.now() - this.options.idleTimeoutMs;
    // Oldest first: the idle list is used from its end.
    while (this.idle.length > 0 && this.idle[0]!.idleSince <= cutoff) {
      this.idle.shift()!.socket.destroy();
    }
    if (this.idle.length === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  };

  get size(): { idle: number; open: number } {
    return { idle: this.idle.length, open: this.all.size };
  }

  close(): void {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    for (const c of this.all) c.abort();
    this.all.clear();
    this.idle.length = 0;
  }
}
