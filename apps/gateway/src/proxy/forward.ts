import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors as undiciErrors, type Dispatcher } from 'undici';
import { ClientHeaders, type ServiceName } from '@neon/contracts';
import { sendProblem } from '@neon/kit';
import type { Replica, UpstreamPools } from '../upstream/pool.js';
import type { Capture } from '../edge/edge-cache.js';
import { addressInfo, type ClientAddress } from './client-address.js';
import {
  HOP_BY_HOP,
  connectionTokens,
  downstreamResponseHeaders,
  dropNamed,
  upstreamRequestHeaderList,
} from './headers.js';

/** Answers up to this size (with a declared length) are buffered rather than piped. */
const SMALL_BODY = 64 * 1024;
/** Media answers up to this size are buffered so the edge cache can keep them. */
const CACHEABLE_BODY = 8 * 1024 * 1024;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export interface ForwardOptions {
  pools: UpstreamPools;
  /** Who connected, and the client, by the trusted-proxy rule. */
  address: (request: FastifyRequest) => ClientAddress;
  upstreamTimeoutMs: number;
  bodyLimit: number;
  proto: string;
}

class BodyTooLarge extends Error {}

/** Reads a body of unknown length, up to `limit` bytes. */
async function readLimited(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(b);
  }
  return Buffer.concat(chunks, size);
}

/** A failure to reach the replica at all: safe to try another one. */
export function isConnectFailure(err: unknown): boolean {
  if (err instanceof undiciErrors.ConnectTimeoutError) return true;
  if (err instanceof undiciErrors.SocketError) return true;
  const code = (err as { code?: string }).code;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' ||
    code === 'EPIPE' ||
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN'
  );
}

/** The gateway's own response headers for one request (security, CORS), chosen by the app. */
export interface ResponseDecoration {
  /** Names the gateway sets itself: an upstream's value for them is dropped. */
  owned: ReadonlySet<string>;
  /** Flat `[name, value, …]` list added to every proxied answer. */
  headers: readonly string[];
}

export interface ProxyResponseOptions {
  /** The gateway's headers for a request with this `Origin`. */
  decoration: (origin: string | undefined) => ResponseDecoration;
  /** True while the server drains: answers then close their connection. */
  draining: () => boolean;
}

/** How an upstream attempt ended, as far as `forward` needs to know. */
type Outcome =
  | { kind: 'error'; err: Error }
  /** The whole (small) answer is here; nothing was written yet. */
  | { kind: 'complete'; status: number; headers: Buffer[]; body: Buffer[]; size: number }
  /** The head went out; the body streams from the handler. */
  | { kind: 'streaming' };

/** The declared length; -1 when there is none, -2 when the body is chunked. */
function contentLengthOf(raw: Buffer[]): number {
  let length = -1;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // By length first, so most names cost one comparison.
    if (name.length === 14 && name.toString('latin1').toLowerCase() === 'content-length')
      length = Number(raw[i + 1]!.toString('latin1'));
    else if (name.length === 17 && name.toString('latin1').toLowerCase() === 'transfer-encoding')
      return -2;
  }
  return length;
}

/**
 * One upstream attempt through undici's `dispatch`: no response object, no
 * body stream, no promise per chunk. Small answers with a declared length
 * are collected and written in one go; the rest stream straight to the
 * client socket with backpressure.
 */
class UpstreamCall implements Dispatcher.DispatchHandler {
  private abortUpstream: ((err?: Error) => void) | null = null;
  private chunks: Buffer[] = [];
  private size = 0;
  status = 0;
  rawHeaders: Buffer[] = [];
  private streaming = false;
  private resumeUpstream: (() => void) | null = null;
  clientGone = false;
  readonly done: Promise<Outcome>;
  private settle!: (o: Outcome) => void;

  constructor(
    private readonly res: ServerResponse,
    private readonly bufferLimit: number,
    private readonly head: boolean,
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly options: ProxyResponseOptions,
  ) {
    this.done = new Promise<Outcome>((resolve) => (this.settle = resolve));
  }

  /** The client left: let the upstream go too (SSE, blocking playlist reloads). */
  cancel(): void {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.abortUpstream?.(new Error('client closed the connection'));
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.clientGone) abort(new Error('client closed the connection'));
  }

  onHeaders(status: number, headers: Buffer[], resume: () => void): boolean {
    this.status = status;
    this.rawHeaders = headers;
    this.resumeUpstream = resume;
    if (this.head || status === 204 || status === 304) return true;
    const length = contentLengthOf(headers);
    if (length === -1) {
      // Framed by the close: undici takes a reset for the end (it completes such an answer on
      // ECONNRESET), so an answer cut short could not be told from a whole one.
      this.abortUpstream?.(new Error('upstream answer framed by the close'));
      return false;
    }
    if (length >= 0 && length <= this.bufferLimit) return true;
    this.streaming = true;
    this.reply.hijack();
    this.res.writeHead(
      status,
      responseHead(status, headers, this.reply, this.request, this.options, false),
    );
    this.res.on('drain', resume);
    this.settle({ kind: 'streaming' });
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.streaming) return this.res.write(chunk);
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  onComplete(): void {
    if (this.streaming) this.res.end();
    else
      this.settle({
        kind: 'complete',
        status: this.status,
        headers: this.rawHeaders,
        body: this.chunks,
        size: this.size,
      });
  }

  onError(err: Error): void {
    if (this.streaming) this.res.destroy(err);
    else this.settle({ kind: 'error', err });
  }
}

/**
 * Proxies one request to `service` at `url`, streaming the answer.
 * A replica that cannot be reached is ejected, and an idempotent request
 * whose body can be replayed goes to the next healthy one.
 *
 * The answer is written to the socket directly (the reply is hijacked): the
 * gateway's own headers come from `response.decoration`, kit's onResponse
 * hook (metrics, access line) still runs when the answer finishes. With a
 * `capture` (the edge cache) the answer goes through the reply instead.
 */
export async function forward(
  request: FastifyRequest,
  reply: FastifyReply,
  service: ServiceName,
  /** The normalised target (see readTarget): what the gateway decided on. */
  url: string,
  identity: Record<string, string>,
  options: ForwardOptions & ProxyResponseOptions,
  capture?: Capture,
): Promise<FastifyReply> {
  const { pools } = options;
  if (!pools.has(service))
    return sendProblem(reply, 'GATEWAY_UPSTREAM_UNAVAILABLE', `No ${service} upstream configured.`);

  const raw = request.raw;
  const method = request.method;
  const lengthHeader = raw.headers['content-length'];
  const length = lengthHeader === undefined ? null : Number(lengthHeader);
  const hasBody = (length !== null && length > 0) || raw.headers['transfer-encoding'] !== undefined;
  if (length !== null && length > options.bodyLimit)
    return sendProblem(
      reply,
      'PAYLOAD_TOO_LARGE',
      `Bodies are limited to ${options.bodyLimit} bytes.`,
    );

  const idempotent = IDEMPOTENT.has(method);
  let body: Readable | Buffer | null = null;
  if (hasBody) {
    if (idempotent || length === null) {
      // Buffered: a retry needs the body again, and a chunked one must be bounded.
      try {
        body = await readLimited(raw, options.bodyLimit);
      } catch (err) {
        if (err instanceof BodyTooLarge)
          return sendProblem(
            reply,
            'PAYLOAD_TOO_LARGE',
            `Bodies are limited to ${options.bodyLimit} bytes.`,
          );
        throw err;
      }
    } else {
      body = raw;
    }
  }
  const replayable = idempotent && !(body !== null && !Buffer.isBuffer(body));

  const headers = upstreamRequestHeaderList(
    raw.headers,
    {
      requestId: request.id,
      ...addressInfo(options.address(request)),
      proto: options.proto,
      identity,
    },
    Buffer.isBuffer(body) ? body.length : null,
  );

  const res = reply.raw;
  const head = method === 'HEAD';
  const bufferLimit = capture ? CACHEABLE_BODY : SMALL_BODY;
  let call: UpstreamCall | null = null;

  const context = {
    service,
    method,
    path: url,
    headers: raw.headers,
    username: identity[ClientHeaders.username],
  };
  const tried: Replica[] = [];
  for (;;) {
    const replica = pools.choose(context, tried);
    if (!replica) {
      return sendProblem(
        reply,
        'GATEWAY_UPSTREAM_UNAVAILABLE',
        `The ${service} service is unavailable.`,
      );
    }
    tried.push(replica);
    call = new UpstreamCall(res, bufferLimit, head, request, reply, options);
    // Bound, not a closure: the per-request cost of this path is what it is measured by.
    res.once('close', call.cancel.bind(call));
    if (res.destroyed) call.clientGone = true;
    replica.pool.dispatch(
      {
        method,
        path: url,
        headers,
        body,
        headersTimeout: options.upstreamTimeoutMs,
        bodyTimeout: 0,
      },
      call,
    );
    const outcome = await call.done;
    if (outcome.kind === 'streaming') return reply;
    if (outcome.kind === 'error') {
      const err = outcome.err;
      if (call.clientGone) return reply;
      if (err instanceof undiciErrors.HeadersTimeoutError) {
        return sendProblem(
          reply,
          'GATEWAY_UPSTREAM_TIMEOUT',
          `The ${service} service did not answer in time.`,
        );
      }
      if (call.rawHeaders.length > 0 || call.status > 0) {
        request.log.warn({ err, upstream: replica.url }, 'upstream answer cut short');
        return sendProblem(reply, 'BAD_GATEWAY', `The ${service} service failed.`);
      }
      if (isConnectFailure(err)) {
        pools.markFailed(replica, (err as { code?: string }).code ?? 'connect failed');
        if (replayable) continue;
        return sendProblem(reply, 'BAD_GATEWAY', `The ${service} service dropped the request.`);
      }
      request.log.error({ err, upstream: replica.url }, 'upstream request failed');
      return sendProblem(reply, 'BAD_GATEWAY', `The ${service} service failed.`);
    }

    const { status } = outcome;
    const small =
      outcome.body.length === 1 ? outcome.body[0]! : Buffer.concat(outcome.body, outcome.size);
    if (capture) {
      // The edge cache keeps what it is handed: it gets the object form and a Fastify reply.
      const out = downstreamResponseHeaders(headerObject(outcome.headers));
      if (status === 401 && out['www-authenticate'] === undefined)
        out['www-authenticate'] = 'Bearer';
      if (status === 204 || status === 304 || head) return reply.code(status).headers(out).send();
      capture(status, out, small);
      return reply.code(status).headers(out).send(small);
    }
    const empty = status === 204 || status === 304 || head;
    reply.hijack();
    res.writeHead(status, responseHead(status, outcome.headers, reply, request, options, !empty));
    // A small answer goes out in one write with its head: a syscall saved per request.
    if (empty) res.end();
    else res.end(small);
    return reply;
  }
}

function headerObject(raw: Buffer[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const list = headerList(raw);
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!;
    const value = list[i + 1]!;
    const prior = out[name];
    if (prior === undefined) out[name] = value;
    else if (Array.isArray(prior)) prior.push(value);
    else out[name] = name === 'set-cookie' ? [prior, value] : `${prior}, ${value}`;
  }
  return out;
}

/**
 * undici's raw `[name, value, …]` buffers as the lower-cased string list
 * `proxiedHead` takes, without the fields the upstream's Connection header
 * named (hop-by-hop, as the fast path's client drops them).
 */
function headerList(raw: Buffer[]): string[] {
  const out: string[] = [];
  let options: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    if (name === 'connection') options = [...(options ?? []), ...connectionTokens(value)];
    out.push(name, value);
  }
  if (options !== null) dropNamed(out, options);
  return out;
}

/** What the gateway set on a Fastify reply before proxying (request id, rate-limit state), as a flat list. */
function replyHeaderList(reply: FastifyReply): string[] {
  const out: string[] = [];
  const set = reply.getHeaders();
  for (const name in set) {
    const value = set[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}

function responseHead(
  status: number,
  upstream: Buffer[],
  reply: FastifyReply,
  request: FastifyRequest,
  options: ProxyResponseOptions,
  buffered: boolean,
): string[] {
  return proxiedHead(
    status,
    headerList(upstream),
    replyHeaderList(reply),
    options.decoration(request.headers.origin),
    options.draining(),
    buffered,
  );
}

/**
 * The head of a proxied answer: the upstream's headers (hop-by-hop and
 * gateway-owned ones dropped), what the gateway set itself (request id,
 * rate-limit state) unless the upstream set it too, and the gateway's own
 * security and CORS headers.
 */
export function proxiedHead(
  status: number,
  /** Lower-cased names, as the upstream sent them, flat. */
  upstream: readonly string[],
  /** The gateway's per-request headers, flat. */
  own: readonly string[],
  decoration: ResponseDecoration,
  draining: boolean,
  /** A body goes out in one piece: typed as Fastify types a Buffer when the upstream did not. */
  buffered: boolean,
): string[] {
  const out: string[] = [];
  let authenticate = false;
  let contentType = false;
  for (let i = 0; i < upstream.length; i += 2) {
    const name = upstream[i]!;
    if (HOP_BY_HOP.has(name) || decoration.owned.has(name)) continue;
    if (name === 'www-authenticate') authenticate = true;
    else if (name === 'content-type') contentType = true;
    out.push(name, upstream[i + 1]!);
  }
  for (let i = 0; i < own.length; i += 2) {
    const name = own[i]!;
    if (decoration.owned.has(name) || hasName(upstream, name)) continue;
    out.push(name, own[i + 1]!);
  }
  // Whatever service answered, a 401 tells the client how to authenticate.
  if (status === 401 && !authenticate) out.push('www-authenticate', 'Bearer');
  if (buffered && !contentType) out.push('content-type', 'application/octet-stream');
  for (const h of decoration.headers) out.push(h);
  if (draining) out.push('connection', 'close');
  return out;
}

function hasName(list: readonly string[], name: string): boolean {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return true;
  return false;
}
