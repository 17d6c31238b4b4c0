import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { ClientHeaders, type ServiceName } from '@neon/contracts';
import { writeProblem, type Logger } from '@neon/kit';
import type { Replica, UpstreamPools } from '../upstream/pool.js';
import type { Exchange, ExchangeHandler, UpstreamError } from '../upstream/http1.js';
import type { FastResponse, ResponseWatcher } from '../front/response.js';
import { upstreamRequestHeaderList } from './headers.js';
import { proxiedHead, type ResponseDecoration } from './forward.js';
import { addressInfo, type ClientAddress } from './client-address.js';

/** Answers up to this size are collected and written with their head in one go. */
const SMALL_BODY = 64 * 1024;

export interface FastProxyOptions {
  /** Called once per request when its answer is written (metrics, access line). */
  record: (request: FastRequest, status: number) => void;
  pools: UpstreamPools;
  upstreamTimeoutMs: number;
  proto: string;
  logger: Logger;
  decoration: (origin: string | undefined) => ResponseDecoration;
  draining: () => boolean;
}

/** Who asks and what the gateway already decided for the request. */
export interface FastRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** Who connected, and the client (see clientAddress). */
  address: ClientAddress;
  res: FastResponse;
  path: string;
  service: ServiceName;
  requestId: string;
  identity: Record<string, string>;
  /** The gateway's own headers for the answer (request id, rate-limit state), flat. */
  own: string[];
  /** performance.now() when the request arrived. */
  started: number;
}

/** node's `ServerResponse` as a FastResponse: for requests node's server parsed (see FrontDoor). */
export class NodeResponse implements FastResponse {
  constructor(private readonly res: ServerResponse) {}
  get statusCode(): number {
    return this.res.statusCode;
  }
  get headersSent(): boolean {
    return this.res.headersSent;
  }
  get destroyed(): boolean {
    return this.res.destroyed;
  }
  writeHead(status: number, headers: string[]): void {
    this.res.writeHead(status, headers);
  }
  write(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }
  end(body?: Buffer): void {
    if (body) this.res.end(body);
    else this.res.end();
  }
  destroy(): void {
    this.res.destroy();
  }
  watch(watcher: ResponseWatcher): void {
    this.res.once('close', () => watcher.clientClosed());
    this.res.on('drain', () => watcher.drained());
  }
}

/**
 * One bodiless request (GET, HEAD, DELETE) proxied with the gateway's own
 * HTTP/1.1 upstream connections and node's response object: no Fastify
 * request cycle, no undici dispatch. Small answers go out in one write with
 * their head; larger and chunked ones (SSE, playlists held open) stream with
 * backpressure. A replica that refuses the connection is ejected and the
 * request goes to the next one: every method here can be replayed.
 */
class FastCall implements ExchangeHandler, ResponseWatcher {
  private readonly tried: Replica[] = [];
  private exchange: Exchange | null = null;
  private status = 0;
  private headers: string[] = [];
  private chunks: Buffer[] = [];
  private size = 0;
  private streaming = false;
  private done = false;
  private replica: Replica | null = null;
  private staleRetries = 0;
  private readonly head: string;

  constructor(
    private readonly r: FastRequest,
    private readonly options: FastProxyOptions,
  ) {
    const list = upstreamRequestHeaderList(
      r.headers,
      {
        requestId: r.requestId,
        ...addressInfo(r.address),
        proto: options.proto,
        identity: r.identity,
      },
      null,
    );
    let head = `${r.method} ${r.url} HTTP/1.1\r\nhost: ${r.headers.host ?? 'gateway'}\r\n`;
    for (let i = 0; i < list.length; i += 2) head += `${list[i]}: ${list[i + 1]}\r\n`;
    this.head = `${head}\r\n`;
    r.res.watch(this);
  }

  start(fresh = false): void {
    const { pools } = this.options;
    const { method, url, headers, service } = this.r;
    if (!fresh || this.replica === null) {
      this.replica = pools.choose(
        { service, method, path: url, headers, username: this.r.identity[ClientHeaders.username] },
        this.tried,
      );
      if (!this.replica) {
        this.problem('GATEWAY_UPSTREAM_UNAVAILABLE', `The ${service} service is unavailable.`);
        return;
      }
      this.tried.push(this.replica);
    }
    this.exchange = this.replica.fast!.request(
      this.head,
      this,
      method === 'HEAD',
      this.options.upstreamTimeoutMs,
      fresh,
    );
  }

  clientClosed(): void {
    if (this.done) return;
    this.done = true;
    this.exchange?.abort();
  }

  drained(): void {
    this.exchange?.resume();
  }

  /** The answer is written: nothing more to hear from the client's side. */
  private finished(): void {
    this.done = true;
    this.options.record(this.r, this.r.res.statusCode);
  }

  onHead(status: number, headers: string[], hasBody: boolean): void {
    this.status = status;
    this.headers = headers;
    if (!hasBody) return;
    const length = contentLength(headers);
    if (length >= 0 && length <= SMALL_BODY) return;
    this.stream();
  }

  private stream(): void {
    const { res } = this.r;
    this.streaming = true;
    res.writeHead(this.status, this.responseHead(false));
    for (const c of this.chunks) res.write(c);
    this.chunks = [];
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return true;
    if (this.streaming) return this.r.res.write(chunk);
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > SMALL_BODY) this.stream();
    return true;
  }

  onEnd(): void {
    if (this.done) return;
    const { res } = this.r;
    if (this.streaming) res.end();
    else {
      const body =
        this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
      res.writeHead(this.status, this.responseHead(body.length > 0));
      if (body.length > 0) res.end(body);
      else res.end();
    }
    this.finished();
  }

  onError(err: UpstreamError): void {
    if (this.done) return;
    const { service } = this.r;
    const { pools, logger } = this.options;
    if (this.streaming) {
      logger.warn({ err: err.message, upstream: this.replica?.url }, 'upstream answer cut short');
      this.r.res.destroy();
      this.finished();
      return;
    }
    if (this.status > 0) {
      this.problem('BAD_GATEWAY', `The ${service} service failed.`);
      logger.warn({ err: err.message, upstream: this.replica?.url }, 'upstream answer cut short');
      return;
    }
    switch (err.kind) {
      case 'stale':
        // The upstream closed a keep-alive connection as it was reused: the same replica, anew.
        if (this.staleRetries++ < 2) return this.start(true);
        break;
      case 'connect':
        pools.markFailed(this.replica!, err.code ?? 'connect failed');
        return this.start();
      case 'timeout':
        return this.problem(
          'GATEWAY_UPSTREAM_TIMEOUT',
          `The ${service} service did not answer in time.`,
        );
      case 'closed':
        // Closed before any answer: the replica went away with the request, which can be replayed.
        pools.markFailed(this.replica!, err.code ?? 'closed before answering');
        return this.start();
      case 'protocol':
        break;
    }
    logger.error({ err: err.message, upstream: this.replica?.url }, 'upstream request failed');
    this.problem('BAD_GATEWAY', `The ${service} service failed.`);
  }

  private problem(code: Parameters<typeof writeProblem>[1], detail: string): void {
    const { res, own } = this.r;
    if (!res.headersSent && !res.destroyed) {
      const decoration = this.options.decoration(this.r.headers.origin);
      // writeProblem sets the request id itself.
      writeProblem(res, code, this.r.requestId, detail, [
        ...dropRequestId(own),
        ...decoration.headers,
      ]);
    }
    this.finished();
  }

  private responseHead(buffered: boolean): string[] {
    return proxiedHead(
      this.status,
      this.headers,
      this.r.own,
      this.options.decoration(this.r.headers.origin),
      this.options.draining(),
      buffered,
    );
  }
}

function dropRequestId(list: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i += 2)
    if (list[i] !== 'x-request-id') out.push(list[i]!, list[i + 1]!);
  return out;
}

function contentLength(headers: readonly string[]): number {
  for (let i = 0; i < headers.length; i += 2)
    if (headers[i] === 'content-length') return Number(headers[i + 1]);
  return -1;
}

/** Proxies a bodiless request whose route, identity and limits are settled. */
export function fastProxy(request: FastRequest, options: FastProxyOptions): void {
  new FastCall(request, options).start();
}
