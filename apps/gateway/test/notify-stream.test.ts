import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  makeKeys,
  mintTicket,
  mintToken,
  problem,
  startGateway,
  startUpstream,
  type GatewayHandle,
  type Keys,
  type Upstream,
  variants,
} from './harness.js';

interface Echo {
  url: string;
  client: { id: string; username: string } | null;
}

for (const variant of variants) {
  describe(`the notification stream's ticket, ${variant.name}`, { skip: variant.skip }, () => {
    let keys: Keys;
    let identity: Upstream;
    let notify: Upstream;
    let gw: GatewayHandle;

    before(async () => {
      keys = await makeKeys();
      identity = await startUpstream('identity', () => [keys.publicJwk]);
      notify = await startUpstream('notify', () => []);
      gw = await startGateway(
        { IDENTITY_URL: identity.url, NOTIFY_URL: notify.url },
        { redisUrl: variant.redisUrl, natsUrl: variant.natsUrl },
      );
    });
    after(async () => {
      await gw.close();
      await identity.close();
      await notify.close();
    });

    const stream = (query: string) => fetch(`${gw.url}/api/v1/notifications/stream?${query}`);

    test('a ticket in ?token= works once, names the caller and never reaches notify', async () => {
      const ticket = await mintTicket(keys, { sub: 'u-stream', username: 'erin' });
      const res = await stream(`channels=a,b&token=${ticket}`);
      assert.equal(res.status, 200);
      const echo = (await res.json()) as Echo;
      assert.equal(echo.url, '/api/v1/notifications/stream?channels=a%2Cb');
      assert.deepEqual(
        { id: echo.client?.id, username: echo.client?.username },
        { id: 'u-stream', username: 'erin' },
      );

      const seenBefore = notify.seen.length;
      const again = await stream(`token=${ticket}`);
      assert.equal(again.status, 401);
      assert.equal((await problem(again)).code, 'AUTH_TICKET_INVALID');
      assert.equal(notify.seen.length, seenBefore, 'refused before the stream opens');
      assert.ok(
        gw.lines.every((l) => !l.includes(ticket)),
        'the ticket is in no log line',
      );
    });

    test('an expired ticket or an access token in ?token= is refused', async () => {
      const expired = await mintTicket(keys, {
        issuedAt: Math.floor(Date.now() / 1000) - 120,
      });
      let res = await stream(`token=${expired}`);
      assert.equal(res.status, 401);
      assert.equal((await problem(res)).code, 'AUTH_TICKET_INVALID');
      const access = await mintToken(keys);
      res = await stream(`token=${access}`);
      assert.equal(res.status, 401);
      assert.equal((await problem(res)).code, 'AUTH_TICKET_INVALID');
    });

    test('without a ticket the stream is anonymous', async () => {
      const res = await stream('channels=a');
      assert.equal(res.status, 200);
      const echo = (await res.json()) as Echo;
      assert.equal(echo.client, null);
      assert.equal(echo.url, '/api/v1/notifications/stream?channels=a');
    });
  });
}
