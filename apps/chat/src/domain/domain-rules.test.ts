import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cleanBody } from './body.js';
import { encodeFrame, parseFrame, wsTextFrame } from './phoenix.js';
import { MemoryRateLimiter } from './rate-limit.js';

// The chat's pure rules at their exact figures: what a message body may be,
// which frames a client may send, how a frame is written for every socket,
// and the sliding window of the per-user budget.

describe('message bodies', () => {
  test('every control character goes, tabs and line breaks become spaces', () => {
    const controls = [0x00, 0x08, 0x0e, 0x1f, 0x7f, 0x80, 0x9f, 0x202a, 0x202e, 0x2066, 0x2069];
    for (const c of controls)
      assert.deepEqual(cleanBody(`a${String.fromCodePoint(c)}b`), { ok: true, body: 'ab' }, `${c}`);
    for (const ws of ['\t', '\n', '\r', '\v', '\f'])
      assert.deepEqual(cleanBody(`a${ws}b`), { ok: true, body: 'a b' }, JSON.stringify(ws));
    // Just outside each range: kept.
    for (const c of [0x20, 0xa0, 0x2029, 0x202f, 0x2065, 0x206a])
      assert.equal(cleanBody(`a${String.fromCodePoint(c)}b`).ok, true, `${c}`);
    assert.deepEqual(cleanBody('a\u00a0b\u202fc'), { ok: true, body: 'a\u00a0b\u202fc' });
  });

  test('500 code points fit, 501 do not; a huge raw body is refused before cleaning', () => {
    assert.deepEqual(cleanBody('x'.repeat(500)), { ok: true, body: 'x'.repeat(500) });
    assert.deepEqual(cleanBody('x'.repeat(501)), { ok: false, code: 'CHAT_BODY_TOO_LONG' });
    // Controls count before they are removed only against the raw limit of 2000.
    assert.deepEqual(cleanBody(`${'\u0000'.repeat(1500)}${'x'.repeat(500)}`), {
      ok: true,
      body: 'x'.repeat(500),
    });
    assert.deepEqual(cleanBody(`${'\u0000'.repeat(1501)}${'x'.repeat(500)}`), {
      ok: false,
      code: 'CHAT_BODY_TOO_LONG',
    });
    assert.deepEqual(cleanBody(' '.repeat(2001)), { ok: false, code: 'CHAT_BODY_TOO_LONG' });
    assert.deepEqual(cleanBody(' '.repeat(2000)), { ok: false, code: 'CHAT_BODY_EMPTY' });
    for (const bad of [undefined, null, {}, ['x']])
      assert.deepEqual(cleanBody(bad), { ok: false, code: 'CHAT_INVALID_MESSAGE' });
    assert.deepEqual(cleanBody(''), { ok: false, code: 'CHAT_BODY_EMPTY' });
  });
});

describe('frames', () => {
  test('a frame needs five elements, a topic, an event and an object payload', () => {
    const bad = (text: string, recovered: object) =>
      assert.deepEqual(parseFrame(text), { ok: false, ...recovered }, text);
    bad('["1","2","room:a","shout"]', { joinRef: '1', ref: '2', topic: 'room:a' });
    bad('["1","2","room:a","shout",{},1]', { joinRef: '1', ref: '2', topic: 'room:a' });
    bad('["1","2",7,"shout",{}]', { joinRef: '1', ref: '2', topic: 'phoenix' });
    bad('["1","2","room:a",7,{}]', { joinRef: '1', ref: '2', topic: 'room:a' });
    bad('["1","2","room:a","shout",null]', { joinRef: '1', ref: '2', topic: 'room:a' });
    bad('["1","2","room:a","shout",[]]', { joinRef: '1', ref: '2', topic: 'room:a' });
    bad('{"0":"1"}', { joinRef: null, ref: null, topic: 'phoenix' });
    bad('"x"', { joinRef: null, ref: null, topic: 'phoenix' });
    bad('[true,{},"room:a","shout"]', { joinRef: null, ref: null, topic: 'room:a' });
  });

  test('refs may be strings, numbers or null', () => {
    assert.deepEqual(parseFrame('[1,22,"room:a","shout",{"body":"x"}]'), {
      ok: true,
      frame: { joinRef: '1', ref: '22', topic: 'room:a', event: 'shout', payload: { body: 'x' } },
    });
    assert.deepEqual(parseFrame('[null,null,"phoenix","heartbeat",{}]'), {
      ok: true,
      frame: { joinRef: null, ref: null, topic: 'phoenix', event: 'heartbeat', payload: {} },
    });
  });

  test('encodes a frame as the five-element array', () => {
    assert.equal(
      encodeFrame(null, '4', 'room:a', 'msg', { a: 1 }),
      '[null,"4","room:a","msg",{"a":1}]',
    );
  });

  test('text frames: final bit and opcode, then the length in 7, 16 or 64 bits at each edge', () => {
    const head = (n: number) => [...wsTextFrame(Buffer.alloc(n, 0x61)).subarray(0, 10)];
    assert.deepEqual(head(0).slice(0, 2), [0x81, 0]);
    assert.deepEqual(head(125).slice(0, 3), [0x81, 125, 0x61]);
    assert.deepEqual(head(126).slice(0, 5), [0x81, 126, 0, 126, 0x61]);
    assert.deepEqual(head(65535).slice(0, 5), [0x81, 126, 0xff, 0xff, 0x61]);
    assert.deepEqual(head(65536), [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    for (const n of [0, 125, 126, 65535, 65536]) {
      const f = wsTextFrame(Buffer.alloc(n, 0x61));
      const header = n < 126 ? 2 : n < 65536 ? 4 : 10;
      assert.equal(f.length, header + n);
      assert.ok(f.subarray(header).equals(Buffer.alloc(n, 0x61)));
    }
  });
});

describe('the sliding window', () => {
  test('a hit leaves the window exactly one window later', () => {
    let now = 0;
    const rl = new MemoryRateLimiter(() => now);
    assert.equal(rl.takeSync('u', 2, 1000), true);
    now = 500;
    assert.equal(rl.takeSync('u', 2, 1000), true);
    now = 999;
    assert.equal(rl.takeSync('u', 2, 1000), false);
    now = 1000;
    // The first hit (at 0) is out; the one at 500 still counts.
    assert.equal(rl.takeSync('u', 2, 1000), true);
    assert.equal(rl.takeSync('u', 2, 1000), false);
    now = 1500;
    assert.equal(rl.takeSync('u', 2, 1000), true);
    assert.equal(rl.takeSync('u', 2, 1000), false);
  });

  test('a refused attempt does not count; a limit of zero refuses all', async () => {
    let now = 0;
    const rl = new MemoryRateLimiter(() => now);
    assert.equal(await rl.take('u', 1, 1000), true);
    for (let i = 0; i < 5; i++) assert.equal(await rl.take('u', 1, 1000), false);
    now = 1000;
    assert.equal(await rl.take('u', 1, 1000), true);
    assert.equal(await rl.take('z', 0, 1000), false);
  });

  test('the periodic sweep forgets only idle keys', () => {
    let now = 0;
    const rl = new MemoryRateLimiter(() => now);
    assert.equal(rl.takeSync('busy', 1, 1000), true);
    now = 10;
    // Ten thousand takes trigger a sweep; the busy key's hit is still in its window.
    for (let i = 0; i < 9_999; i++) rl.takeSync(`k${i}`, 1, 100_000);
    assert.equal(rl.takeSync('busy', 1, 1000), false);
    now = 2000;
    assert.equal(rl.takeSync('busy', 1, 1000), true);
  });
});
