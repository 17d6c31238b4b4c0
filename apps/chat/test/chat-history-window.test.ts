import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JoinReply } from '@neon/contracts';
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

// The join history is the newest 50 messages, oldest first (apps/chat/README.md).
// The figure is written out here on purpose: a test reading it from the code
// would follow the code wherever it went.
const WINDOW = 50;

for (const variant of engineVariants()) {
  describe(`chat history window (${variant.name})`, { skip: variant.skip }, () => {
    let d: Deployment;
    let replica: Replica;
    const owner = newUser('hist');

    before(async () => {
      d = await variant.open();
      replica = await startReplica(d, {
        CHAT_HEARTBEAT_TIMEOUT_MS: '60000',
        CHAT_RATE_LIMIT_MODERATOR: '1000',
        CHAT_FLUSH_MS: '2',
      });
      await register(d, owner);
    });

    after(async () => {
      disconnectAll();
      await replica.close();
      await d.cleanup();
    });

    test('a fresh join after 120 messages gets exactly the newest 50, oldest first', async () => {
      const room = `room:${owner.username}`;
      const oc = connect(replica, d.secret, owner).channel(room);
      assert.equal((await join(oc)).status, 'ok');
      const sent: { id: string; body: string }[] = [];
      for (let i = 0; i < 120; i++) {
        const body = `message ${i}`;
        const r = await push(oc, 'shout', { body });
        assert.equal(r.status, 'ok', `message ${i}: ${JSON.stringify(r.response)}`);
        sent.push({ id: r.response.id as string, body });
      }
      // One deleted among the newest does not shrink the window: the next older one moves in.
      const deleted = sent[100]!;
      assert.equal(
        (await push(oc, 'moderate', { action: 'delete', messageId: deleted.id })).status,
        'ok',
      );
      const kept = sent.filter((m) => m !== deleted);

      const reply = (await join(connect(replica, d.secret, null).channel(room)))
        .response as unknown as JoinReply;
      assert.equal(reply.history.length, WINDOW);
      assert.deepEqual(
        reply.history.map((m) => ({ id: m.id, body: m.body })),
        kept.slice(-WINDOW),
      );
      assert.equal(reply.history[0]!.body, 'message 69');
      assert.equal(reply.history.at(-1)!.body, 'message 119');
    });
  });
}
