import { createHmac } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventSubSubscription } from '@neon/contracts';
import { uniqueName } from '@neon/testing';

/** One request the test's callback server received. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: {
    challenge?: string;
    subscription: EventSubSubscription;
    event?: Record<string, unknown>;
  };
}

export type Answer = (msg: Received, res: ServerResponse) => void;

/** Answers as a well-behaved callback: the challenge echoed as plain text, notifications with 204. */
export const echo: Answer = (msg, res) => {
  if (msg.headers['neon-eventsub-message-type'] === 'webhook_callback_verification')
    res.writeHead(200, { 'content-type': 'text/plain' }).end(msg.json.challenge);
  else res.writeHead(204).end();
};

/** A real HTTP server on 127.0.0.1: each path answers as the test tells it. */
export class Receiver {
  readonly received: Received[] = [];
  private readonly answers = new Map<string, Answer>();
  private server!: Server;
  private port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '';
        const msg: Received = {
          path,
          headers: req.headers,
          body,
          json: JSON.parse(body || '{}') as Received['json'],
        };
        this.received.push(msg);
        (this.answers.get(path) ?? echo)(msg, res);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** A fresh path on this server, answering with `answer` (an echo by default). */
  hook(answer: Answer = echo): string {
    const path = `/${uniqueName('hook')}`;
    this.answers.set(path, answer);
    return path;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  at(path: string, type?: string): Received[] {
    return this.received.filter(
      (r) => r.path === path && (!type || r.headers['neon-eventsub-message-type'] === type),
    );
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

/** The documented scheme, computed here independently of the service's code. */
export function expectedSignature(secret: string, r: Received): string {
  const id = r.headers['neon-eventsub-message-id'] as string;
  const timestamp = r.headers['neon-eventsub-message-timestamp'] as string;
  return `sha256=${createHmac('sha256', secret)
    .update(id + timestamp + r.body)
    .digest('hex')}`;
}

/** The worker's settings for tests: loopback callbacks, short timeouts and retries, a fast tick. */
export const EVENTSUB_TEST_ENV = {
  CHANNELS_EVENTSUB_ALLOW_HTTP_LOOPBACK: 'true',
  CHANNELS_EVENTSUB_TIMEOUT_MS: '1000',
  CHANNELS_EVENTSUB_RETRY_MS: '100',
  CHANNELS_EVENTSUB_RETRY_MAX_MS: '400',
  CHANNELS_EVENTSUB_WORKER_INTERVAL_MS: '50',
} as const;
