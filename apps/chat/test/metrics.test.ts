import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@neon/testing';
import {
  connect,
  disconnectAll,
  engineVariants,
  join,
  newUser,
  push,
  register,
  startReplica,
  type Deployment,
  type Replica,
} from './helpers.js';

for (const variant of engineVariants()) {
  describe(`chat metrics (${variant.name})`, { skip: variant.skip }, () => {
    let d: Deployment;
    let replica: Replica;
    const owner = newUser('met');
    const talker = newUser('mett');

    before(async () => {
      d = await variant.open();
      replica = await startReplica(d, { CHAT_RATE_LIMIT: '2', CHAT_FLUSH_MS: '20' });
      await register(d, owner, talker);
    });

    after(async () => {
      disconnectAll();
      await replica.close();
      await d.cleanup();
    });

    /** One series' value from this replica's registry, as a scrape would read it. */
    async function value(name: string, labels: Record<string, string> = {}): Promise<number> {
      const metric = replica.service.server.metrics.getSingleMetric(name);
      assert.ok(metric, `${name} is registered`);
      const { values } = await metric.get();
      const match = values.find((v) =>
        Object.entries(labels).every(([k, want]) => v.labels[k] === want),
      );
      return match?.value ?? 0;
    }

    test('counts the sockets open, the messages stored and those refused, by code', async () => {
      assert.equal(await value('chat_connections'), 0);
      const topic = `room:${owner.username}`;
      const reader = connect(replica, d.secret, null).channel(topic);
      const writer = connect(replica, d.secret, talker).channel(topic);
      assert.equal((await join(reader)).status, 'ok');
      assert.equal((await join(writer)).status, 'ok');
      assert.equal(await value('chat_connections'), 2);

      const replies = [];
      for (const body of ['one', 'two', 'three'])
        replies.push(await push(writer, 'shout', { body }));
      assert.deepEqual(
        replies.map((r) => r.status),
        ['ok', 'ok', 'error'],
      );
      assert.equal(await value('chat_messages_total'), 2);
      assert.equal(await value('chat_messages_refused_total', { code: 'CHAT_RATE_LIMITED' }), 1);

      disconnectAll();
      await waitFor(async () => (await value('chat_connections')) === 0, {
        what: 'sockets closed',
      });
    });
  });
}
