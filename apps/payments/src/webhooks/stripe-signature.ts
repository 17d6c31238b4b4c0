import Stripe from 'stripe';
import { AppError } from '@neon/kit';

/** Stripe's tolerance for a signed timestamp, seconds (its SDK's default too). */
export const STRIPE_TOLERANCE_SECONDS = 300;

/** The fields of a Stripe event every handler relies on; the rest is read per type. */
export interface StripeEventEnvelope {
  id: string;
  type: string;
  /** Seconds since the epoch, Stripe's clock. */
  created: number;
  data: { object: Record<string, unknown> };
}

const verifier = Stripe.webhooks;

/**
 * Verifies a `Stripe-Signature` header over the raw body with Stripe's SDK
 * (HMAC-SHA256 over `t.payload`; any `v1` value may match, as during a secret
 * rotation) against each configured secret, and refuses a timestamp more than
 * the tolerance away from `now` in either direction. Returns the parsed event.
 */
export function verifyStripeEvent(
  raw: Buffer,
  header: string | string[] | undefined,
  secrets: readonly string[],
  now: number,
  toleranceSeconds = STRIPE_TOLERANCE_SECONDS,
): StripeEventEnvelope {
  if (typeof header !== 'string' || header.length === 0 || header.length > 4096)
    throw new AppError('PAYMENTS_SIGNATURE_MISSING', 'A Stripe-Signature header is required.');
  const t = /(?:^|,)t=(\d{1,12})(?:,|$)/.exec(header);
  if (!t || !/(?:^|,)v1=[0-9a-f]+/.test(header))
    throw new AppError(
      'PAYMENTS_SIGNATURE_MISSING',
      'The Stripe-Signature header has no timestamp or no v1 signature.',
    );
  let event: unknown;
  let outside = false;
  for (const secret of secrets) {
    try {
      event = verifier.constructEvent(raw, header, secret, toleranceSeconds, undefined, now);
      break;
    } catch (err) {
      if (err instanceof SyntaxError)
        throw new AppError('PAYMENTS_EVENT_MALFORMED', 'The signed body is not JSON.');
      if (err instanceof Stripe.errors.StripeSignatureVerificationError) {
        if (/tolerance/i.test(err.message)) outside = true;
        continue;
      }
      throw err;
    }
  }
  if (event === undefined)
    throw outside
      ? new AppError(
          'PAYMENTS_TIMESTAMP_OUTSIDE_TOLERANCE',
          `The signed timestamp is more than ${toleranceSeconds} s old.`,
        )
      : new AppError(
          'PAYMENTS_SIGNATURE_INVALID',
          'No signature matches this body with a configured secret.',
        );
  // The SDK only refuses old timestamps; one from the future is as suspect.
  if (Number(t[1]) * 1000 - now > toleranceSeconds * 1000)
    throw new AppError(
      'PAYMENTS_TIMESTAMP_OUTSIDE_TOLERANCE',
      `The signed timestamp is more than ${toleranceSeconds} s ahead.`,
    );
  return asEnvelope(event);
}

function asEnvelope(event: unknown): StripeEventEnvelope {
  const e = event as Partial<StripeEventEnvelope> | null;
  if (
    typeof e !== 'object' ||
    e === null ||
    Array.isArray(e) ||
    typeof e.id !== 'string' ||
    e.id.length === 0 ||
    e.id.length > 255 ||
    typeof e.type !== 'string' ||
    e.type.length === 0 ||
    e.type.length > 255 ||
    typeof e.created !== 'number' ||
    !Number.isSafeInteger(e.created) ||
    typeof e.data !== 'object' ||
    e.data === null ||
    typeof e.data.object !== 'object' ||
    e.data.object === null
  )
    throw new AppError(
      'PAYMENTS_EVENT_MALFORMED',
      'The body is not a Stripe event (an object with id, type, created and data.object).',
    );
  return e as StripeEventEnvelope;
}

/** A `Stripe-Signature` header for `payload`, one `v1` per secret (how Stripe signs during a rotation). */
export function signStripePayload(payload: string, secrets: readonly string[], at: number): string {
  const timestamp = Math.floor(at / 1000);
  const parts = secrets.map((secret) =>
    verifier
      .generateTestHeaderString({ payload, secret, timestamp })
      .split(',')
      .find((p) => p.startsWith('v1='))!,
  );
  return [`t=${timestamp}`, ...parts].join(',');
}
