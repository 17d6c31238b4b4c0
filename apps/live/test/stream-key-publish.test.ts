import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamKeyResponse } from '@neon/contracts';
import type { Client } from '@neon/kit';
import { publishStatus } from '@neon/rtmp/testing';
import { generateStreamKey } from '../src/stream-keys/stream-key.js';
import { variants, type Harness } from './harness.js';

// What a publisher sees when it pushes to rtmp://…/live/<key>: only the key
// the owner holds right now starts a stream.
for (const variant of variants()) {
  describe(`publishing with a stream key on ${variant.name}`, { skip: variant.skip }, () => {
    let h: Harness;
    before(async () => {
      // Seven wrong keys in a row from one address: without this the back-off
      // (publish-backoff.test.ts) would refuse the last ones before their key is read.
      h = await variant.open({ RTMP_PUBLISH_BACKOFF_MAX_SECONDS: '0' });
    });
    after(() => h.close());

    async function key(client: Client, method: 'GET' | 'POST' = 'GET'): Promise<string> {
      const res = await h.live.server.inject({
        method,
        url: '/api/v1/me/stream-key',
        headers: h.as(client),
      });
      assert.equal(res.statusCode, 200);
      return res.json<StreamKeyResponse>().streamKey;
    }

    /** Publishes under `name` and returns the publish status the server answered with. */
    const publish = async (name: string) => (await publishStatus(h.live.rtmpPort()!, name)).code;

    it('the current key starts a stream; the key it replaced and any near miss do not', async () => {
      const alice = h.user();
      const first = await key(alice);
      assert.equal(await publish(first), 'NetStream.Publish.Start');

      const second = await key(alice, 'POST');
      assert.notEqual(second, first);
      assert.equal(await publish(first), 'NetStream.Publish.BadName', 'the replaced key');
      for (const [what, name] of [
        ['a key nobody holds', generateStreamKey()],
        ['the key with a character more', `${second}A`],
        ['the key with a character less', second.slice(0, -1)],
        ['the key behind a prefix', `x${second}`],
        ['the key in another case', second.toUpperCase()],
        ['the key without its prefix', second.slice(5)],
      ] as const) {
        assert.equal(await publish(name), 'NetStream.Publish.BadName', what);
      }
      assert.equal(await publish(second), 'NetStream.Publish.Start', 'the new key');
    });
  });
}
