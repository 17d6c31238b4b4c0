import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { EventSubStatus, EventSubSubscription, OAuthScope } from '@neon/contracts';
import { appHeaders, type Client } from '@neon/kit';
import { uniqueName, waitFor } from '@neon/testing';
import { assertProblem, type Harness, type Variant } from './harness.js';
import { EVENTSUB_TEST_ENV, Receiver } from './webhook-receiver.js';

/**
 * The channels app with EventSub's test settings (and `env`) and a webhook receiver, opened
 * before the suite's tests and closed after them; `harness()` is the app once open.
 */
export function eventSubApp(
  variant: Variant,
  env: Record<string, string> = {},
): { rx: Receiver; harness: () => Harness } {
  const rx = new Receiver();
  let h: Harness | null = null;
  before(async () => {
    await rx.start();
    h = await variant.open({ env: { ...EVENTSUB_TEST_ENV, ...env } });
  });
  after(async () => {
    await h?.close();
    rx.close();
  });
  const harness = (): Harness => {
    if (!h) throw new Error('the channels app is not open yet');
    return h;
  };
  return { rx, harness };
}

/** The secret every test subscription signs with. */
export const SECRET = 'a-secret-of-some-length';

/**
 * What the EventSub tests do as a third-party app would, against `harness()` (read when a helper
 * runs, so it can be made in `before`) with callbacks on `rx`.
 */
export function eventSubClient(harness: () => Harness, rx: Receiver) {
  /** As the gateway forwards an OAuth token: an app's own, or one acting for `user`. */
  function token(app: string, scopes: OAuthScope[] = [], user?: Client): Record<string, string> {
    return appHeaders(
      { clientId: app, scopes, ...(user ? { user } : {}) },
      harness().platform.internalSecret,
    );
  }
  const inject = (
    method: 'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT',
    url: string,
    headers: Record<string, string>,
    payload?: object,
  ) => harness().app.server.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  const problem = (
    res: { statusCode: number; body: string; headers: Record<string, unknown> },
    status: number,
    code: string,
  ) => assertProblem(res, status, code);
  async function broadcaster(): Promise<Client> {
    const user = await harness().register();
    await waitFor(
      async () =>
        (await harness().app.server.inject({ url: `/api/v1/channels/${user.username}` }))
          .statusCode === 200,
      { what: `channel ${user.username}` },
    );
    return user;
  }
  const body = (type: string, broadcasterUserId: string, path: string, extra: object = {}) => ({
    type,
    version: '1',
    condition: { broadcasterUserId },
    transport: { method: 'webhook', callback: rx.url(path), secret: SECRET },
    ...extra,
  });
  async function subscribe(
    app: string,
    type: string,
    who: Client,
    path: string,
    headers = token(app),
  ): Promise<EventSubSubscription> {
    const res = await inject(
      'POST',
      '/public/v1/eventsub/subscriptions',
      headers,
      body(type, who.id, path),
    );
    assert.equal(res.statusCode, 202, res.body);
    const [sub] = res.json<{ data: EventSubSubscription[] }>().data;
    assert.equal(sub!.status, 'webhook_callback_verification_pending');
    return sub!;
  }
  /** channel.follow on `owner`'s channel, made with a token acting for `by` (the owner or a moderator). */
  const subscribeFollows = (app: string, owner: Client, path: string, by: Client = owner) =>
    subscribe(app, 'channel.follow', owner, path, token(app, ['channel:read:followers'], by));
  async function list(
    app: string,
    query = '',
  ): Promise<{
    data: EventSubSubscription[];
    total: number;
    maxTotal: number;
    pagination: { cursor: string | null };
  }> {
    const res = await inject('GET', `/public/v1/eventsub/subscriptions${query}`, token(app));
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  }
  const statusOf = async (app: string, id: string) =>
    (await list(app, '?first=100')).data.find((s) => s.id === id)?.status;
  const becomes = (app: string, id: string, status: EventSubStatus) =>
    waitFor(async () => (await statusOf(app, id)) === status, { what: `${id} ${status}` });
  async function goLive(user: Client): Promise<string> {
    const broadcastId = uniqueName('b');
    await harness().bus.publish('live.stream.started.v1', {
      broadcastId,
      channel: user.username,
      userId: user.id,
      title: 'Hello',
      startedAt: new Date().toISOString(),
      renditions: ['720p'],
    });
    return broadcastId;
  }
  return {
    token,
    inject,
    problem,
    broadcaster,
    body,
    subscribe,
    subscribeFollows,
    list,
    statusOf,
    becomes,
    goLive,
  };
}
