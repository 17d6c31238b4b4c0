import { createHmac } from 'node:crypto';

/**
 * `Neon-Eventsub-Message-Signature`: `sha256=` and the hex HMAC-SHA256, keyed
 * with the subscription's secret, of the message id, the timestamp and the
 * body, concatenated as sent (Twitch's scheme). The timestamp is signed so a
 * receiver can refuse an old message replayed.
 */
export function signMessage(secret: string, id: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret)
    .update(id + timestamp + body)
    .digest('hex')}`;
}
