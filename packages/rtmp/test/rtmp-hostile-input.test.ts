import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtmpServerSession, amf0Encode, amfObject, defaultRtmpLimits } from '@neon/rtmp';
import {
  basicHeader,
  chunkMessage,
  command,
  handshake,
  newSession,
  publishScript,
  serverMessages,
} from '@neon/rtmp/testing';

function connected(): ReturnType<typeof newSession> {
  const run = newSession();
  run.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  assert.equal(run.events.error, undefined);
  return run;
}

/** A type-0 header announcing `length` bytes, with no payload. */
function header(csid: number, length: number, typeId = 9): Buffer {
  const h = Buffer.alloc(11);
  h.writeUIntBE(length, 3, 3);
  h[6] = typeId;
  h.writeUInt32LE(1, 7);
  return Buffer.concat([basicHeader(0, csid), h]);
}

test('bytes that are not RTMP end the handshake with a code', () => {
  for (const garbage of [
    Buffer.from('GET / HTTP/1.1\r\n\r\n'),
    Buffer.of(6),
    Buffer.of(0x16, 3, 1),
  ]) {
    const run = newSession();
    assert.equal(run.session.feed(garbage)?.code, 'RTMP_HANDSHAKE_VERSION_UNSUPPORTED');
    assert.equal(run.session.phase, 'failed');
    assert.equal(run.sent.length, 0);
  }
});

test('after an error the session ignores input and emits nothing more', () => {
  const run = connected();
  const err = run.session.feed(Buffer.concat([Buffer.of(0x47), Buffer.alloc(10)])); // fmt 1 on csid 7, never opened
  assert.equal(err?.code, 'RTMP_CHUNK_HEADER_INVALID');
  const sent = run.sent.length;
  const video = run.events.video?.length;
  assert.equal(run.session.feed(publishScript().bytes), undefined);
  assert.equal(run.events.error?.length, 1);
  assert.equal(run.sent.length, sent);
  assert.equal(run.events.video?.length, video);
});

test('a declared message length over the limit is refused from its header alone', () => {
  const run = connected();
  assert.equal(
    run.session.feed(header(6, defaultRtmpLimits.maxMessageLength + 1))?.code,
    'RTMP_MESSAGE_TOO_LARGE',
  );
  const small = newSession({ limits: { maxMessageLength: 1000 } });
  small.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  assert.equal(small.session.feed(header(6, 1001))?.code, 'RTMP_MESSAGE_TOO_LARGE');
});

test('chunk streams: too many opened, too many unfinished, too many bytes unfinished', () => {
  const opened = connected();
  let err;
  for (let csid = 10; csid < 200 && !err; csid++) err = opened.session.feed(header(csid, 0));
  assert.equal(err?.code, 'RTMP_TOO_MANY_CHUNK_STREAMS');

  const unfinished = connected();
  err = undefined;
  for (let csid = 10; csid < 60 && !err; csid++) {
    // A whole first chunk (4096 bytes) of a 5000-byte message: the message stays unfinished.
    err = unfinished.session.feed(Buffer.concat([header(csid, 5000), Buffer.alloc(4096, 0x27)]));
  }
  assert.equal(err?.code, 'RTMP_TOO_MANY_CHUNK_STREAMS');

  // 7 MiB messages left unfinished on three chunk streams: the third would pass 16 MiB.
  const big = connected();
  const results = [10, 11, 12].map((csid) =>
    big.session.feed(Buffer.concat([header(csid, 7 * 1024 * 1024), Buffer.alloc(4096, 0x27)])),
  );
  assert.deepEqual(
    results.map((r) => r?.code),
    [undefined, undefined, 'RTMP_BUFFER_LIMIT_EXCEEDED'],
  );
  assert.ok(big.session.bufferedBytes <= defaultRtmpLimits.maxBufferedBytes + 18);
});

test('commands out of order or malformed', () => {
  const cases: [Buffer, string][] = [
    [command(3, 0, 128, 'createStream', 2, null), 'RTMP_COMMAND_INVALID'],
    [command(3, 0, 128, 'publish', 2, null, 'key', 'live'), 'RTMP_COMMAND_INVALID'],
    [command(3, 0, 128, 'connect', 1, 'not an object'), 'RTMP_COMMAND_INVALID'],
    [command(3, 0, 128, 'connect', 1, amfObject({ tcUrl: 'x' })), 'RTMP_COMMAND_INVALID'],
    [command(3, 0, 128, 42), 'RTMP_COMMAND_INVALID'],
    [
      command(3, 0, 128, 'connect', 1, amfObject({ app: 'a'.repeat(1025) })),
      'RTMP_COMMAND_INVALID',
    ],
    [
      chunkMessage({ csid: 3, fmt: 0, typeId: 20, payload: Buffer.of(0x11, 1), chunkSize: 128 }),
      'RTMP_AMF_UNSUPPORTED',
    ],
    [
      chunkMessage({
        csid: 3,
        fmt: 0,
        typeId: 20,
        payload: Buffer.alloc(100, 0x03),
        chunkSize: 128,
      }),
      'RTMP_AMF_INVALID',
    ],
    [
      chunkMessage({ csid: 2, fmt: 0, typeId: 1, payload: Buffer.of(0, 1), chunkSize: 128 }),
      'RTMP_MESSAGE_INVALID',
    ],
    [
      chunkMessage({ csid: 2, fmt: 0, typeId: 4, payload: Buffer.of(0, 6, 1), chunkSize: 128 }),
      'RTMP_MESSAGE_INVALID',
    ],
    [
      chunkMessage({ csid: 2, fmt: 0, typeId: 5, payload: Buffer.of(1), chunkSize: 128 }),
      'RTMP_MESSAGE_INVALID',
    ],
  ];
  for (const [bytes, expected] of cases) {
    const run = newSession();
    run.session.feed(handshake());
    assert.equal(run.session.feed(bytes)?.code, expected, expected);
  }
  // A stream key of a megabyte never reaches the host's key lookup: the
  // pre-publish budget refuses the message, and without that budget the name check does.
  for (const [prePublishLimits, code] of [
    [undefined, 'RTMP_MESSAGE_TOO_LARGE'],
    [null, 'RTMP_COMMAND_INVALID'],
  ] as const) {
    const huge = newSession(prePublishLimits === undefined ? {} : { prePublishLimits });
    huge.session.feed(handshake());
    huge.session.feed(command(3, 0, 128, 'connect', 1, amfObject({ app: 'live' })));
    assert.equal(
      huge.session.feed(command(3, 1, 128, 'publish', 5, null, 'k'.repeat(1_000_000), 'live'))
        ?.code,
      code,
    );
    assert.equal(huge.events.publish, undefined);
  }
  // A deep AMF bomb in a command: refused by depth, not by the stack.
  const bomb = Buffer.alloc(60_000, 0x0a);
  for (let i = 0; i + 5 <= bomb.length; i += 5) bomb.writeUInt32BE(1, i + 1);
  const run = newSession();
  run.session.feed(handshake());
  const err = run.session.feed(
    chunkMessage({
      csid: 3,
      fmt: 0,
      typeId: 20,
      payload: Buffer.concat([amf0Encode('connect', 1), bomb]),
      chunkSize: 128,
    }),
  );
  assert.equal(err?.code, 'RTMP_AMF_TOO_DEEP');
  // Too many streams.
  const greedy = newSession();
  greedy.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  let last;
  for (let i = 0; i < 20 && !last; i++)
    last = greedy.session.feed(command(3, 0, 4096, 'createStream', 10 + i, null));
  assert.equal(last?.code, 'RTMP_COMMAND_INVALID');
});

test('a listener that throws stops the session with RTMP_INTERNAL; feed itself never throws', () => {
  const session = new RtmpServerSession({ send: () => undefined });
  const errors: string[] = [];
  session.on('connect', () => {
    throw new Error('host bug');
  });
  session.on('error', (e) => {
    errors.push(e.code);
    throw new Error('and the error listener too');
  });
  const err = session.feed(publishScript().bytes);
  assert.equal(err?.code, 'RTMP_INTERNAL');
  assert.deepEqual(errors, ['RTMP_INTERNAL']);
  assert.equal(session.phase, 'failed');
});

test('a peer asking for an acknowledgement every byte does not get a flood of them', () => {
  const run = connected();
  const win = Buffer.alloc(4);
  win.writeUInt32BE(1, 0);
  run.session.feed(chunkMessage({ csid: 2, fmt: 0, typeId: 5, payload: win, chunkSize: 4096 }));
  const before = serverMessages(run.sent).filter((m) => m.typeId === 3).length;
  for (let i = 0; i < 100; i++) {
    run.session.feed(
      chunkMessage({
        csid: 6,
        fmt: 0,
        typeId: 9,
        streamId: 1,
        timestamp: i,
        payload: Buffer.alloc(200, 0x27),
        chunkSize: 4096,
      }),
    );
  }
  const acks = serverMessages(run.sent).filter((m) => m.typeId === 3).length - before;
  // 100 reads of ~212 bytes, at most one acknowledgement per 4096 bytes.
  assert.ok(acks >= 4 && acks <= 6, `acks: ${acks}`);
});

test('a peer stalling in the handshake holds at most one C1 and is visible to the host', () => {
  const run = newSession();
  const hs = handshake();
  for (let i = 0; i < 1000; i++) run.session.feed(hs.subarray(i, i + 1));
  assert.equal(run.session.handshakeComplete, false);
  assert.equal(run.session.phase, 'handshake');
  assert.ok(run.session.bufferedBytes <= 1536);
  run.session.feed(hs.subarray(1000));
  assert.equal(run.session.handshakeComplete, true);
  assert.equal(run.session.bufferedBytes, 0);
});

test('checkTimeouts: a slow-loris handshake, a connection that never publishes, a silent peer', () => {
  let now = 1_000_000;
  const clock = { now: () => now };
  const hs = handshake();

  // One byte every 4 s: never idle, but the handshake deadline counts from the start.
  const loris = newSession(clock);
  for (let i = 0; i < 3; i++) {
    loris.session.feed(hs.subarray(i, i + 1));
    assert.equal(loris.session.checkTimeouts(), undefined);
    now += 4000;
  }
  now -= 2000; // 10 s after the start
  assert.equal(loris.session.checkTimeouts()?.code, 'RTMP_HANDSHAKE_TIMEOUT');
  assert.equal(loris.events.error?.[0]?.code, 'RTMP_HANDSHAKE_TIMEOUT');
  assert.equal(loris.session.feed(hs.subarray(3)), undefined);
  assert.equal(loris.session.handshakeComplete, false);

  // Handshake and connect, then only pings: no publish within 10 s of the start.
  const lurker = newSession(clock);
  lurker.session.feed(hs);
  lurker.session.feed(command(3, 0, 128, 'connect', 1, amfObject({ app: 'live' })));
  for (let i = 0; i < 4; i++) {
    now += 2000;
    const ping = Buffer.alloc(6);
    ping.writeUInt16BE(6, 0);
    lurker.session.feed(
      chunkMessage({ csid: 2, fmt: 0, typeId: 4, payload: ping, chunkSize: 4096 }),
    );
    assert.equal(lurker.session.checkTimeouts(), undefined, `at ${i}`);
  }
  now += 1999;
  assert.equal(lurker.session.checkTimeouts(), undefined);
  now += 1;
  assert.equal(lurker.session.checkTimeouts()?.code, 'RTMP_PUBLISH_TIMEOUT');

  // A slow handshake uses up the same 10 s: the deadline does not restart after it.
  const slow = newSession(clock);
  now += 9000;
  slow.session.feed(hs);
  assert.equal(slow.session.checkTimeouts(), undefined);
  now += 1000;
  assert.equal(slow.session.checkTimeouts()?.code, 'RTMP_PUBLISH_TIMEOUT');

  // A publish command whose decision never comes is no publish.
  const pending = newSession(clock, 'none');
  pending.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  assert.equal(pending.events.publish?.length, 1);
  now += 10_000;
  assert.equal(pending.session.checkTimeouts()?.code, 'RTMP_PUBLISH_TIMEOUT');

  // An accepted publisher that keeps sending is never cut by it.
  const live = newSession(clock);
  live.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  for (let i = 0; i < 10; i++) {
    now += 5000;
    live.session.feed(
      chunkMessage({
        csid: 2,
        fmt: 0,
        typeId: 4,
        payload: Buffer.of(0, 6, 0, 0, 0, 1),
        chunkSize: 4096,
      }),
    );
    assert.equal(live.session.checkTimeouts(), undefined, `after ${(i + 1) * 5} s`);
  }

  // A publisher that goes silent.
  const silent = newSession({ ...clock, timeouts: { idleMs: 10_000 } });
  silent.session.feed(publishScript({ frames: 2, unpublish: false }).bytes);
  now += 9_999;
  assert.equal(silent.session.checkTimeouts(), undefined);
  now += 1;
  assert.equal(silent.session.checkTimeouts()?.code, 'RTMP_IDLE_TIMEOUT');
  assert.equal(silent.session.phase, 'failed');
  // The host's close then ends the stream as usual.
  silent.session.end();
  assert.deepEqual(silent.events.unpublish, [{ streamId: 1, reason: 'disconnect' }]);
});

test('a peer that repeats requests forever gets a bounded number of answers', () => {
  const run = connected();
  const sentBefore = Buffer.concat(run.sent).length;
  const ping = Buffer.alloc(6);
  ping.writeUInt16BE(6, 0);
  const pingMsg = chunkMessage({ csid: 2, fmt: 0, typeId: 4, payload: ping, chunkSize: 4096 });
  const release = command(3, 0, 4096, 'releaseStream', 9, null, 'k');
  const fc = command(3, 0, 4096, 'FCPublish', 0, null, 'k');
  const storm = Buffer.concat(
    Array.from({ length: 4000 }, () => Buffer.concat([pingMsg, release, fc])),
  );
  assert.equal(run.session.feed(storm), undefined);
  const sent = Buffer.concat(run.sent).length - sentBefore;
  // 12,000 requests (~390 KB), at most 1024 answers of under 100 bytes, and a few acknowledgements.
  assert.ok(storm.length > 300_000);
  assert.ok(sent < 1024 * 100, `sent ${sent}`);
});
