import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { AppError } from '@neon/kit';
import {
  STRIPE_TOLERANCE_SECONDS,
  signStripePayload,
  verifyStripeEvent,
} from './stripe-signature.js';

const SECRET = 'whsec_current';
const OLD = 'whsec_previous';
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);

const event = { id: 'evt_1', type: 'invoice.paid', created: 1_790_000_000, data: { object: {} } };

/** Stripe's scheme written out by hand (not through the SDK the code uses): `t=…,v1=hex(HMAC(t.payload))`. */
function header(payload: string, secrets: string[], atSeconds: number, extra = ''): string {
  const v1 = secrets.map(
    (s) => `v1=${createHmac('sha256', s).update(`${atSeconds}.${payload}`).digest('hex')}`,
  );
  return [`t=${atSeconds}`, ...v1].join(',') + extra;
}

const at = (offsetSeconds = 0) => Math.floor(NOW / 1000) + offsetSeconds;

/** What each refusal says, so the sender's problem+json names the problem. */
const says: Record<string, RegExp> = {
  PAYMENTS_SIGNATURE_MISSING:
    /^(A Stripe-Signature header is required\.|The Stripe-Signature header has no timestamp or no v1 signature\.)$/,
  PAYMENTS_SIGNATURE_INVALID: /^No signature matches this body with a configured secret\.$/,
  PAYMENTS_TIMESTAMP_OUTSIDE_TOLERANCE: /^The signed timestamp is more than \d+ s (old|ahead)\.$/,
  PAYMENTS_EVENT_MALFORMED: /^(The signed body is not JSON\.|The body is not a Stripe event .+)$/,
};

function refused(fn: () => unknown, code: string, message = says[code]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message ?? /./);
    return true;
  });
}

function verify(body: unknown, h: string | string[] | undefined, secrets = [SECRET]) {
  const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return verifyStripeEvent(raw, h, secrets, NOW);
}

describe("Stripe's webhook signature", () => {
  const body = JSON.stringify(event);

  it('accepts a body signed with the secret and returns the event', () => {
    assert.deepEqual(verify(body, header(body, [SECRET], at())), event);
  });

  it('accepts either secret during a rotation, in either place of the header', () => {
    assert.equal(verify(body, header(body, [SECRET], at()), [OLD, SECRET]).id, 'evt_1');
    assert.equal(verify(body, header(body, [OLD], at()), [OLD, SECRET]).id, 'evt_1');
    assert.equal(verify(body, header(body, ['whsec_x', SECRET], at())).id, 'evt_1');
  });

  it('refuses a signature made with another secret, or over another body', () => {
    refused(() => verify(body, header(body, ['whsec_other'], at())), 'PAYMENTS_SIGNATURE_INVALID');
    refused(
      () => verify(body.replace('evt_1', 'evt_2'), header(body, [SECRET], at())),
      'PAYMENTS_SIGNATURE_INVALID',
    );
    // No secret configured: nothing can match.
    refused(() => verify(body, header(body, [SECRET], at()), []), 'PAYMENTS_SIGNATURE_INVALID');
  });

  it('refuses a missing, repeated, empty or oversized header', () => {
    refused(() => verify(body, undefined), 'PAYMENTS_SIGNATURE_MISSING', /is required/);
    refused(() => verify(body, ''), 'PAYMENTS_SIGNATURE_MISSING', /is required/);
    const good = header(body, [SECRET], at());
    refused(() => verify(body, [good, good]), 'PAYMENTS_SIGNATURE_MISSING', /is required/);
    // Unknown schemes are ignored, so a header can be padded to any length.
    const pad = (n: number) => `${good},v0=${'0'.repeat(n - good.length - 4)}`;
    assert.equal(pad(4096).length, 4096);
    assert.equal(verify(body, pad(4096)).id, 'evt_1');
    refused(() => verify(body, pad(4097)), 'PAYMENTS_SIGNATURE_MISSING', /is required/);
  });

  it('refuses a header without a timestamp or without a v1 signature', () => {
    const sig = header(body, [SECRET], at()).split(',')[1] ?? '';
    refused(() => verify(body, sig), 'PAYMENTS_SIGNATURE_MISSING');
    refused(() => verify(body, `t=${at()}`), 'PAYMENTS_SIGNATURE_MISSING');
    refused(() => verify(body, `t=${at()},v0=abcdef`), 'PAYMENTS_SIGNATURE_MISSING');
    refused(() => verify(body, `t=12345678901234,${sig}`), 'PAYMENTS_SIGNATURE_MISSING');
    refused(() => verify(body, `t=soon,${sig}`), 'PAYMENTS_SIGNATURE_MISSING');
    // The timestamp and the signature are fields of their own, in any order.
    const [t, v1] = header(body, [SECRET], at()).split(',');
    assert.equal(verify(body, `${v1},${t}`).id, 'evt_1');
    refused(() => verify(body, `xt=${at()},${v1}`), 'PAYMENTS_SIGNATURE_MISSING');
  });

  it('refuses a timestamp more than five minutes old or ahead, replays included', () => {
    const limit = STRIPE_TOLERANCE_SECONDS;
    assert.equal(limit, 300);
    assert.equal(verify(body, header(body, [SECRET], at(-limit))).id, 'evt_1');
    assert.equal(verify(body, header(body, [SECRET], at(limit))).id, 'evt_1');
    refused(
      () => verify(body, header(body, [SECRET], at(-limit - 1))),
      'PAYMENTS_TIMESTAMP_OUTSIDE_TOLERANCE',
      /more than 300 s old/,
    );
    refused(
      () => verify(body, header(body, [SECRET], at(limit + 1))),
      'PAYMENTS_TIMESTAMP_OUTSIDE_TOLERANCE',
      /more than 300 s ahead/,
    );
    // An old timestamp under a wrong secret is a bad signature, not a late one.
    refused(
      () => verify(body, header(body, ['whsec_other'], at(-limit - 60))),
      'PAYMENTS_SIGNATURE_INVALID',
    );
    // The tolerance is the caller's to set.
    const raw = Buffer.from(body);
    assert.equal(
      verifyStripeEvent(raw, header(body, [SECRET], at(-30)), [SECRET], NOW, 60).id,
      'evt_1',
    );
    refused(
      () => verifyStripeEvent(raw, header(body, [SECRET], at(-61)), [SECRET], NOW, 60),
      'PAYMENTS_TIMESTAMP_OUTSIDE_TOLERANCE',
    );
    refused(
      () => verifyStripeEvent(raw, header(body, [SECRET], at(61)), [SECRET], NOW, 60),
      'PAYMENTS_TIMESTAMP_OUTSIDE_TOLERANCE',
    );
  });

  it('refuses a signed body that is not a Stripe event', () => {
    const signed = (b: string) => () => verify(b, header(b, [SECRET], at()));
    refused(signed('{"id":'), 'PAYMENTS_EVENT_MALFORMED', /not JSON/);
    const bad: unknown[] = [
      null,
      [],
      'evt_1',
      { ...event, id: undefined },
      { ...event, id: '' },
      { ...event, id: 'e'.repeat(256) },
      { ...event, id: 7 },
      { ...event, type: undefined },
      { ...event, type: '' },
      { ...event, type: 't'.repeat(256) },
      { ...event, created: '1790000000' },
      { ...event, created: 1.5 },
      { ...event, created: 2 ** 53 },
      { ...event, data: null },
      { ...event, data: 'x' },
      { ...event, data: {} },
      { ...event, data: { object: null } },
      { ...event, data: { object: 'x' } },
    ];
    for (const b of bad)
      refused(signed(JSON.stringify(b)), 'PAYMENTS_EVENT_MALFORMED', /not a Stripe event/);
    // The longest id and type allowed.
    const longest = { ...event, id: 'e'.repeat(255), type: 't'.repeat(255) };
    assert.equal(
      verify(JSON.stringify(longest), header(JSON.stringify(longest), [SECRET], at())).id.length,
      255,
    );
  });

  it('signs as Stripe does: one v1 per secret, each accepted on its own', () => {
    const h = signStripePayload(body, [SECRET, OLD], NOW + 999);
    assert.equal(h, header(body, [SECRET, OLD], at()));
    assert.equal(verify(body, h, [OLD]).id, 'evt_1');
    assert.equal(verify(body, h, [SECRET]).id, 'evt_1');
  });
});
