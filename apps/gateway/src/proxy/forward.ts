import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors as undiciErrors, type Dispatcher } from 'undici';
import type { ServiceName } from '@neon/contracts';
import { sendProblem } from '@neon/kit';
import type { Replica, UpstreamPools } from '../upstream/pool.js';
import type { Capture } from '../edge/edge-cache.js';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.js';

/** Answers up to this size (with a declared length) are buffered rather than piped. */
const SMALL_BODY = 64 * 1024;
/** Media answers up to this size are buffered so the edge cache can keep them. */
const CACHEABLE_BODY = 8 * 1024 * 1024;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export interface ForwardOptions {
  pools: UpstreamPools;
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

/**
 * Proxies one request to `service`, path unchanged, streaming the answer.
 * A replica that cannot be reached is ejected, and an idempotent request
 * whose body can be replayed goes to the next healthy one.
 */
export async function forward(
  request: FastifyRequest,
  reply: FastifyReply,
  service: ServiceName,
  identity: Record<string, string>,
  options: ForwardOptions,
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

  const headers = upstreamRequestHeaders(raw.headers, {
    requestId: request.id,
    clientIp: request.ip,
    proto: options.proto,
    identity,
  });
  if (Buffer.isBuffer(body)) {
    delete headers['transfer-encoding'];
    headers['content-length'] = String(body.length);
  }

  // A viewer who leaves (SSE, blocking playlist reload) must release the upstream too.
  const abort = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) abort.abort();
  };
  reply.raw.once('close', onClose);

  const context = { service, method, path: request.url, headers: raw.headers };
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
    let res: Dispatcher.ResponseData;
    try {
      res = await replica.pool.request({
        method: method,
        path: request.url,
        headers,
        body,
        signal: abort.signal,
        headersTimeout: options.upstreamTimeoutMs,
        bodyTimeout: 0,
      });
    } catch (err) {
      if (abort.signal.aborted) return reply;
      if (err instanceof undiciErrors.HeadersTimeoutError) {
        return sendProblem(
          reply,
          'GATEWAY_UPSTREAM_TIMEOUT',
          `The ${service} service did not answer in time.`,
        );
      }
      if (isConnectFailure(err)) {
        pools.markFailed(replica, (err as { code?: string }).code ?? 'connect failed');
        if (replayable) continue;
        return sendProblem(reply, 'BAD_GATEWAY', `The ${service} service dropped the request.`);
      }
      request.log.error({ err, upstream: replica.url }, 'upstream request failed');
      return sendProblem(reply, 'BAD_GATEWAY', `The ${service} service failed.`);
    }
    const out = downstreamResponseHeaders(res.headers);
    // Whatever service answered, a 401 tells the client how to authenticate.
    if (res.statusCode === 401 && out['www-authenticate'] === undefined)
      out['www-authenticate'] = 'Bearer';
    if (res.statusCode === 204 || res.statusCode === 304) {
      // No body may follow; drain so the connection returns to the pool.
      await res.body.dump();
      return reply.code(res.statusCode).headers(out).send();
    }
    const size = Number(res.headers['content-length']);
    if (method !== 'HEAD' && size >= 0 && size <= (capture ? CACHEABLE_BODY : SMALL_BODY)) {
      // A small answer goes out in one write with its headers: a syscall saved per request.
      let small: Buffer;
      try {
        small = Buffer.from(await res.body.arrayBuffer());
      } catch (err) {
        if (abort.signal.aborted) return reply;
        request.log.warn({ err, upstream: replica.url }, 'upstream answer cut short');
        return sendProblem(reply, 'BAD_GATEWAY', `The ${service} service failed.`);
      }
      capture?.(res.statusCode, out, small);
      return reply.code(res.statusCode).headers(out).send(small);
    }
    return reply.code(res.statusCode).headers(out).send(res.body);
  }
}
