import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeReply, parseFrame, wsTextFrame } from './phoenix.js';

test('parses a V2 frame', () => {
  const r = parseFrame('["1","2","room:a","shout",{"body":"hi"}]');
  assert.deepEqual(r, {
    ok: true,
    frame: { joinRef: '1', ref: '2', topic: 'room:a', event: 'shout', payload: { body: 'hi' } },
  });
});

test('recovers refs from a malformed frame and survives bad JSON', () => {
  assert.deepEqual(parseFrame('["1","2","room:a","shout","x"]'), {
    ok: false,
    joinRef: '1',
    ref: '2',
    topic: 'room:a',
  });
  assert.deepEqual(parseFrame('{nope'), { ok: false, joinRef: null, ref: null, topic: 'phoenix' });
});

test('encodes replies as the phoenix client expects', () => {
  assert.equal(
    encodeReply('1', '3', 'room:a', 'ok', { id: 'x' }),
    '["1","3","room:a","phx_reply",{"status":"ok","response":{"id":"x"}}]',
  );
});

test('frames text with 7, 16 and 64-bit lengths', () => {
  assert.deepEqual([...wsTextFrame(Buffer.from('ab')).subarray(0, 2)], [0x81, 2]);
  const mid = wsTextFrame(Buffer.alloc(300));
  assert.equal(mid[1], 126);
  assert.equal(mid.readUInt16BE(2), 300);
  assert.equal(mid.length, 304);
  const big = wsTextFrame(Buffer.alloc(70_000));
  assert.equal(big[1], 127);
  assert.equal(big.readUInt32BE(6), 70_000);
});
