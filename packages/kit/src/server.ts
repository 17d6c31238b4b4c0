import { randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
  type FastifySchema,
} from 'fastify';
import type { Duplex } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { Registry, Histogram, collectDefaultMetrics } from 'prom-client';
import { ClientHeaders, errorStatus, type ErrorCode, type Problem } from '@neon/contracts';
import { AppError, isAppError, problemType, statusTitle, type FieldError } from './errors.js';
import { clientFromHeaders, fromGateway, oauthFromHeaders } from './auth.js';
import type { Logger } from './logger.js';
import { strictValidation } from './validation.js';

export type ReadinessCheck = () => Promise<unknown>;

export interface ServerOptions {
  name: string;
  logger: Logger;
  /** Shared with the gateway; without it, identity headers are ignored. */
  internalSecret: string;
  bodyLimit?: number;
  /** Default process metrics; once per process is enough. */
  processMetrics?: boolean;
  /** Which peers' X-Forwarded-For to believe for `request.ip` (the address, its hop index from the socket). */
  trustProxy?: (address: string, hop: number) => boolean;
}

/**
 * Sees every request before Fastify and returns true when it has answered
 * it itself (the gateway's proxy fast path); false hands it to Fastify.
 */
export type FrontHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** One answered request, for the metrics and the access line of a request Fastify did not see. */
export interface RequestRecord {
  method: string;
  route: string;
  status: number;
  ms: number;
  requestId: string;
  /** Extra fields for the access line (never tokens or secrets). */
  fields?: Record<string, unknown>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
    /** What the replica needs to answer any request (its engines): failing, it leaves the gateway's pool. */
    readiness: Map<string, ReadinessCheck>;
    /**
     * What it needs to take new work (live's capacity): failing, `/readyz`
     * answers 503 for an orchestrator or an RTMP balancer, but the gateway
     * keeps sending it the requests of the work it has.
     */
    admission: Map<string, ReadinessCheck>;
    serviceName: string;
    /** Installs the handler that sees requests before Fastify (one per server). */
    setFront(handler: FrontHandler): void;
    /** Metrics and access line for a request answered by the front handler. */
    recordRequest(record: RequestRecord): void;
    /** Every route as registered, with its schema: what a published API document is checked against. */
    routeList: readonly RegisteredRoute[];
  }
}

export interface RegisteredRoute {
  method: string;
  url: string;
  schema: FastifySchema | undefined;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const noop = (): void => undefined;

/** The caller's `X-Request-Id` when it is well-formed, a new one otherwise. */
export function requestIdOf(req: Pick<IncomingMessage, 'headers'>): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The problem+json body for `code` (RFC 9457), the one shape every error answer has. */
export function problemBody(
  code: ErrorCode,
  requestId: string,
  detail?: string,
  errors?: FieldError[],
): Problem {
  const status = errorStatus[code];
  return {
    type: problemType(code),
    title: statusTitle(status),
    status,
    code,
    requestId,
    ...(detail ? { detail } : {}),
    ...(errors ? { errors } : {}),
  };
}

/** Where `writeProblem` writes: node's `ServerResponse`, or a writer of the same shape. */
export interface HeadAndBodyWriter {
  writeHead(status: number, headers: string[]): unknown;
  end(body: Buffer): unknown;
}

/** A problem answer written straight to a node response (the front handler's path). */
export function writeProblem(
  res: HeadAndBodyWriter,
  code: ErrorCode,
  requestId: string,
  detail?: string,
  headers: readonly string[] = [],
): void {
  const body = Buffer.from(JSON.stringify(problemBody(code, requestId, detail)));
  res.writeHead(errorStatus[code], [
    'content-type',
    'application/problem+json; charset=utf-8',
    'content-length',
    String(body.length),
    'x-request-id',
    requestId,
    ...headers,
  ]);
  res.end(body);
}

const statusCodes: Partial<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'AUTH_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

/**
 * A problem answer as raw bytes, for a socket no request object owns (a
 * head node could not parse, a refused upgrade): the connection closes after it.
 */
export function problemResponse(
  code: ErrorCode,
  requestId: string,
  detail?: string,
  headers: Readonly<Record<string, string>> = {},
): string {
  const body = JSON.stringify(problemBody(code, requestId, detail));
  const status = errorStatus[code];
  let head = `HTTP/1.1 ${status} ${statusTitle(status)}\r\ncontent-type: application/problem+json; charset=utf-8\r\n`;
  head += `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  return `${head}connection: close\r\n\r\n${body}`;
}

/**
 * node's answer to a head it could not read, as a problem: 431 for one over
 * the size limit, 408 for one that took too long, 400 for anything else
 * malformed (bare LF line ends, bad characters, conflicting framing).
 */
function clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A reset: nobody is left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 'HEADERS_TOO_LARGE'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'REQUEST_TIMEOUT'
        : 'BAD_REQUEST';
  const answer = () => {
    if (socket.writable) socket.write(problemResponse(code, randomUUID()));
    socket.destroy();
  };
  // Pipelined after requests still being answered: the refusal goes after their answers, in
  // order, or a client would take it for the answer to an earlier request.
  const last = answering.get(socket);
  if (last && !last.writableFinished && !last.destroyed) last.once('close', answer);
  else answer();
}

/** Each connection's latest answer in progress, for `clientError`. */
const answering = new WeakMap<Duplex, ServerResponse>();

/** Every method a route may be registered for, in the order an `Allow` header lists them. */
const ROUTE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export function sendProblem(
  reply: FastifyReply,
  code: ErrorCode,
  detail?: string,
  extra?: { errors?: FieldError[]; headers?: Record<string, string> },
): FastifyReply {
  const body = problemBody(code, reply.request.id, detail, extra?.errors);
  if (extra?.headers) void reply.headers(extra.headers);
  return reply.status(body.status).type('application/problem+json').send(body);
}

function validationErrors(error: FastifyError): FieldError[] {
  return (error.validation ?? []).map((v) => {
    const params = v.params as { missingProperty?: string; additionalProperty?: string };
    const base = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const leaf = params.missingProperty ?? params.additionalProperty;
    const field = [error.validationContext, base, leaf].filter(Boolean).join('.');
    return {
      field: field || String(error.validationContext ?? 'body'),
      message: v.message ?? 'is invalid',
    };
  });
}

/**
 * A Fastify server with what every Neon service shares: request ids, the
 * problem+json error contract, health and readiness, Prometheus metrics (in
 * `app.metrics`; `serveMetrics` exposes them on an internal port, never on
 * this server) and the caller identity passed by the gateway.
 */
export function createServer(options: ServerOptions) {
  let front: FrontHandler | null = null;
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    genReqId: requestIdOf,
    ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
    // Fastify's own server, with a door in front for `setFront`; the settings Fastify applies to the server it makes.
    serverFactory: (handler, opts) => {
      const server = createHttpServer((req, res) => {
        answering.set(req.socket, res);
        if (front === null || !front(req, res)) handler(req, res);
      });
      const { keepAliveTimeout, requestTimeout, connectionTimeout } = opts;
      if (typeof keepAliveTimeout === 'number') server.keepAliveTimeout = keepAliveTimeout;
      if (typeof requestTimeout === 'number') server.requestTimeout = requestTimeout;
      if (typeof connectionTimeout === 'number') server.setTimeout(connectionTimeout);
      return server;
    },
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      disableRequestLogging: true,
    }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    clientErrorHandler: clientError,
    // What the router refuses before any route runs answers as every other refusal does.
    frameworkErrors: (error, _request, reply) => {
      // A path segment longer than any route's parameter can name nothing that exists.
      if (error.code === 'FST_ERR_MAX_PARAM_LENGTH')
        void sendProblem(reply, 'NOT_FOUND', 'No such path: one of its segments is too long.');
      else
        void sendProblem(
          reply,
          statusCodes[error.statusCode ?? 400] ?? 'BAD_REQUEST',
          'The request path is malformed.',
        );
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(strictValidation);

  const metrics = new Registry();
  metrics.setDefaultLabels({ service: options.name });
  if (options.processMetrics) collectDefaultMetrics({ register: metrics });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metrics],
  });

  app.decorate('metrics', metrics);
  app.decorate('readiness', new Map<string, ReadinessCheck>());
  app.decorate('admission', new Map<string, ReadinessCheck>());
  app.decorate('serviceName', options.name);
  app.decorate('setFront', (handler: FrontHandler) => {
    if (front) throw new Error('a front handler is already installed');
    front = handler;
  });
  const accessLog = options.logger;
  // One labelled child per method, route and status: observing through it skips hashing the labels.
  const series = new Map<string, { observe(seconds: number): void }>();
  app.decorate('recordRequest', (r: RequestRecord) => {
    const key = `${r.method} ${r.status} ${r.route}`;
    let child = series.get(key);
    if (!child) {
      child = duration.labels({ method: r.method, route: r.route, status: String(r.status) });
      series.set(key, child);
    }
    child.observe(r.ms / 1000);
    const level = r.status >= 500 ? 'error' : 'info';
    if (!accessLog.isLevelEnabled(level)) return;
    accessLog[level](
      {
        requestId: r.requestId,
        ...r.fields,
        method: r.method,
        route: r.route,
        status: r.status,
        ms: Math.round(r.ms),
      },
      'request completed',
    );
  });
  app.decorateRequest('client', null);
  app.decorateRequest('oauth', null);
  app.decorateRequest('clientIp', '');

  // JSON is the one body type a route reads: Fastify's default text/plain parser would hand a
  // string to a JSON schema and answer 400; without it, another type is a 415 problem.
  app.removeContentTypeParser('text/plain');

  // Every route, in a router of the same rules as Fastify's: a path that exists with other
  // methods answers 405 with an Allow header, not 404.
  const routes = FindMyWay();
  const routeList: RegisteredRoute[] = [];
  app.decorate('routeList', routeList);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      routeList.push({ method, url: route.url, schema: route.schema });
      if (!routes.hasRoute(method as HTTPMethod, route.url))
        routes.on(method as HTTPMethod, route.url, noop);
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    request.client = clientFromHeaders(request.headers, options.internalSecret);
    request.oauth = oauthFromHeaders(request.headers, options.internalSecret, request.client);
    if (request.oauth) request.client = request.oauth.user;
    const ip = request.headers[ClientHeaders.ip];
    request.clientIp =
      typeof ip === 'string' && ip !== '' && fromGateway(request.headers, options.internalSecret)
        ? ip
        : request.ip;
    void reply.header('x-request-id', request.id);
  });

  // While draining, answer in-flight requests with `Connection: close` so
  // keep-alive sockets end with them and close() does not wait on idle peers.
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (draining) void reply.header('connection', 'close');
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    const level = reply.statusCode >= 500 ? 'error' : 'info';
    request.log[level](
      {
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request completed',
    );
  });

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isAppError(error)) {
      if (error.status >= 500) request.log.error({ err: error }, 'request failed');
      return sendProblem(reply, error.code, error.detail, {
        ...(error.errors ? { errors: error.errors } : {}),
        ...(error.headers ? { headers: error.headers } : {}),
      });
    }
    if (error.validation) {
      const errors = validationErrors(error);
      return sendProblem(
        reply,
        'VALIDATION_FAILED',
        errors.map((e) => `${e.field} ${e.message}`).join('; '),
        { errors },
      );
    }
    const status = error.statusCode ?? 500;
    const code = status < 500 ? statusCodes[status] : undefined;
    if (code) return sendProblem(reply, code, error.message);
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, 'INTERNAL');
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    // A route that exists for this method and sent the request here (a file that is not served)
    // is a 404 like any other.
    const own = routes.find(request.method as HTTPMethod, request.url) !== null;
    const allowed = own
      ? []
      : ROUTE_METHODS.filter((m) => m !== request.method && routes.find(m, request.url) !== null);
    if (allowed.length > 0)
      return sendProblem(reply, 'METHOD_NOT_ALLOWED', `${path} does not take ${request.method}.`, {
        headers: { allow: allowed.join(', ') },
      });
    return sendProblem(reply, 'NOT_FOUND', `No route for ${request.method} ${path}`);
  });

  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok', service: options.name }));

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        querystring: Type.Object({ scope: Type.Optional(Type.Literal('serving')) }),
      },
    },
    async (request, reply) => {
      const checks: Record<string, string> = {};
      let ok = true;
      const all =
        request.query.scope === 'serving'
          ? [...app.readiness]
          : [...app.readiness, ...app.admission];
      await Promise.all(
        all.map(async ([name, check]) => {
          try {
            await withTimeout(check(), 2000);
            checks[name] = 'ok';
          } catch (err) {
            ok = false;
            checks[name] = err instanceof Error ? err.message : 'failed';
          }
        }),
      );
      return reply
        .status(ok ? 200 : 503)
        .send({ status: ok ? 'ok' : 'unavailable', service: options.name, checks });
    },
  );

  return app;
}

export type Server = ReturnType<typeof createServer>;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export { AppError };
