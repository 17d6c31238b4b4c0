import { setMaxListeners } from 'node:events';
import { EventSubHeaders } from '@neon/contracts';
import type { Logger } from '@neon/kit';
import {
  CallbackRefused,
  parseCallback,
  resolveCallback,
  type CallbackPolicy,
  type Resolve,
} from './callback.js';
import type { ClaimedMessage, EventSubRepository } from './eventsub.repository.js';
import { subscriptionView } from './eventsub.view.js';
import type { EventSubMetrics } from './metrics.js';
import { postWebhook, type SendResult } from './sender.js';
import { signMessage } from './signature.js';

export interface DeliveryWorkerOptions {
  repo: EventSubRepository;
  logger: Logger;
  metrics: EventSubMetrics;
  policy: CallbackPolicy;
  resolve: Resolve;
  /** One attempt, all of it: resolving, connecting, sending, reading the answer. */
  timeoutMs: number;
  /** The first retry's wait; it doubles with each failure. */
  retryMs: number;
  retryMaxMs: number;
  /** A message is dropped this old; a callback answering nothing this long is revoked. */
  giveUpMs: number;
  intervalMs: number;
  /** Messages this replica sends at once. */
  concurrency?: number;
  random?: () => number;
}

/**
 * The wait before the next attempt after `failures` failed ones: `baseMs`
 * doubling, capped at `maxMs`, jittered by ±20% so that the callbacks of a
 * busy moment are not all retried in the same instant.
 */
export function retryDelay(
  failures: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const doubled = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 40));
  return Math.max(1, Math.round(Math.min(maxMs, doubled * (0.8 + 0.4 * random()))));
}

/** Whether a message still has a reason to go, given where its subscription stands now. */
function wanted(m: ClaimedMessage): boolean {
  const status = m.subscription.status;
  switch (m.kind) {
    case 'webhook_callback_verification':
      return status === 'webhook_callback_verification_pending';
    case 'notification':
      return status === 'enabled';
    case 'revocation':
      return status === 'notification_failures_exceeded' || status === 'authorization_revoked';
  }
}

/**
 * Sends the webhook messages that are due, from every replica at once
 * without sending one twice at the same time (see EventSubRepository.claim).
 * A timer looks for due messages; `kick` looks at once (after a write).
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly inflight = new Set<Promise<void>>();
  private readonly unsent: string[] = [];
  /** Delivered messages not yet settled in the database: settled together. */
  private readonly delivered: string[] = [];
  private settleTimer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private readonly concurrency: number;
  private readonly leaseMs: number;

  constructor(private readonly o: DeliveryWorkerOptions) {
    this.concurrency = o.concurrency ?? 16;
    // Past this, a message claimed by a replica that died is taken again.
    this.leaseMs = o.timeoutMs + 60_000;
    // Every attempt under way listens for the stop.
    setMaxListeners(this.concurrency + 8, this.abort.signal);
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.kick(), this.o.intervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Looks for due messages now instead of at the next tick. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.fill();
      } while (this.again && !this.stopped);
    })()
      .catch((err: unknown) => this.o.logger.error({ err }, 'webhook worker failed; will retry'))
      .finally(() => {
        this.running = null;
      });
  }

  /** Stops taking messages, ends the attempts under way (their messages are due again at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.running;
    await Promise.allSettled([...this.inflight]);
    await this.settle();
    await this.o.repo
      .release(this.unsent.splice(0))
      .catch((err: unknown) =>
        this.o.logger.warn({ err }, 'webhook messages stay claimed until their lease ends'),
      );
  }

  /** Claims as many due messages as there are free slots, and starts them. */
  private async fill(): Promise<void> {
    while (!this.stopped) {
      const free = this.concurrency - this.inflight.size;
      if (free <= 0) return;
      const claimed = await this.o.repo.claim(free, this.leaseMs);
      for (const m of claimed) {
        const p: Promise<void> = this.deliver(m)
          .catch((err: unknown) =>
            this.o.logger.error({ err, messageId: m.id }, 'webhook message not settled'),
          )
          .finally(() => {
            this.inflight.delete(p);
            // Claims are taken for half the slots at once, not one each time one frees: a
            // claim costs about as much for sixteen messages as for one.
            if (this.inflight.size <= this.concurrency / 2) this.kick();
          });
        this.inflight.add(p);
      }
      if (claimed.length < free) return;
    }
  }

  private async deliver(m: ClaimedMessage): Promise<void> {
    const { repo, metrics, logger } = this.o;
    if (!wanted(m)) return repo.drop(m.id);
    const result = await this.attempt(m);
    if (this.abort.signal.aborted && !result.ok) {
      this.unsent.push(m.id);
      return;
    }
    const s = m.subscription;
    const log = { messageId: m.id, subscriptionId: s.id, kind: m.kind, attempt: m.attempts };
    if (m.kind === 'webhook_callback_verification') {
      const challenge = m.payload.challenge as string;
      if (result.ok && result.body === challenge) {
        metrics.attempt(m.kind, 'sent');
        return repo.verified(m);
      }
      metrics.attempt(m.kind, 'failed');
      const reason = result.ok ? 'the answer was not the challenge' : result.reason;
      logger.info({ ...log, reason }, 'webhook callback verification failed');
      return repo.verificationFailed(m, reason);
    }
    if (result.ok) {
      metrics.attempt(m.kind, 'sent');
      this.delivered.push(m.id);
      // Settled with the others that finish about now; a crash before then sends it again after
      // its lease, with the same message id (at least once).
      if (this.delivered.length >= this.concurrency / 2 || this.inflight.size <= 1)
        return this.settle();
      this.settleTimer ??= setTimeout(() => void this.settle(), 20);
      return;
    }
    metrics.attempt(m.kind, 'failed');
    const delay = retryDelay(m.attempts, this.o.retryMs, this.o.retryMaxMs, this.o.random);
    const outcome = await repo.failed(m, delay, this.o.giveUpMs, result.reason);
    if (outcome === 'revoked')
      logger.warn(
        { ...log, reason: result.reason },
        'webhook callback failed for the whole window; subscription revoked',
      );
    else if (outcome === 'dropped')
      logger.warn({ ...log, reason: result.reason }, 'webhook message given up');
    else
      logger.debug({ ...log, reason: result.reason, retryInMs: delay }, 'webhook attempt failed');
  }

  /** Marks the delivered messages done, in one statement. */
  private async settle(): Promise<void> {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = null;
    const ids = this.delivered.splice(0);
    await this.o.repo
      .delivered(ids)
      .catch((err: unknown) =>
        this.o.logger.warn({ err, count: ids.length }, 'delivered webhook messages not settled'),
      );
  }

  /** One attempt: the address checked again, the message signed with this attempt's time. */
  private async attempt(m: ClaimedMessage): Promise<SendResult> {
    const started = Date.now();
    const s = m.subscription;
    const subscription = subscriptionView(s);
    const body = JSON.stringify(
      m.kind === 'webhook_callback_verification'
        ? { challenge: m.payload.challenge, subscription }
        : m.kind === 'notification'
          ? { subscription, event: m.payload.event }
          : { subscription },
    );
    const timestamp = new Date().toISOString();
    const headers = {
      [EventSubHeaders.id]: m.id,
      [EventSubHeaders.timestamp]: timestamp,
      [EventSubHeaders.type]: m.kind,
      [EventSubHeaders.subscriptionType]: s.type,
      [EventSubHeaders.subscriptionVersion]: s.version,
      [EventSubHeaders.signature]: signMessage(s.secret, m.id, timestamp, body),
    };
    try {
      // Checked at every attempt: what the name resolves to may have changed since the last.
      const url = parseCallback(s.callback, this.o.policy);
      const pinned = await resolveCallback(url, this.o.policy, this.o.resolve, this.o.timeoutMs);
      return await postWebhook(url, pinned, body, headers, {
        timeoutMs: Math.max(1, this.o.timeoutMs - (Date.now() - started)),
        signal: this.abort.signal,
      });
    } catch (err) {
      if (err instanceof CallbackRefused) return { ok: false, reason: `callback ${err.message}` };
      return { ok: false, reason: err instanceof Error ? err.message : 'the attempt failed' };
    }
  }
}
