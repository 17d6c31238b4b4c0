import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Registry, Histogram, collectDefaultMetrics } from 'prom-client';
import { errorStatus, type ErrorCode, type Problem } from '@neon/contracts';
import { AppError, isAppError, problemType, statusTitle, type FieldError } from './errors.js';
import { clientFromHeaders } from './auth.js';
import type { Logger } from './logger.js';

export type ReadinessCheck = () => Promise<unknown>;

export interface ServerOptions {
  name: string;
  logger: Logger;
  /** Shared with the gateway; without it, identity headers are ignored. */
  internalSecret: string;
  bodyLimit?: number;
  /** Default process metrics; once per process is enough. */
  processMetrics?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
    readiness: Map<string, ReadinessCheck>;
    serviceName: string;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const statusCodes: Partial<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'AUTH_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

export function sendProblem(
  reply: FastifyReply,
  code: ErrorCode,
  detail?: string,
  extra?: { errors?: FieldError[]; headers?: Record<string, string> },
): FastifyReply {
  const status = errorStatus[code];
  const body: Problem = {
    type: problemType(code),
    title: statusTitle(status),
    status,
    code,
    requestId: reply.request.id,
    ...(detail ? { detail } : {}),
    ...(extra?.errors ? { errors: extra.errors } : {}),
  };
  if (extra?.headers) void reply.headers(extra.headers);
  return reply.status(status).type('application/problem+json').send(body);
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
 * problem+json error contract, health and readiness, Prometheus metrics and
 * the caller identity passed by the gateway.
 */
export function createServer(options: ServerOptions) {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      disableRequestLogging: true,
    }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

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
  app.decorate('serviceName', options.name);
  app.decorateRequest('client', null);

  app.addHook('onRequest', async (request, reply) => {
    request.client = clientFromHeaders(request.headers, options.internalSecret);
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

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 'NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`),
  );

  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok', service: options.name }));

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const checks: Record<string, string> = {};
    let ok = true;
    await Promise.all(
      [...app.readiness].map(async ([name, check]) => {
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
  });

  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
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
