import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amf0Encode, amfObject, type AmfObject } from '@neon/rtmp';
import {
  chunkMessage,
  command,
  handshake,
  newSession,
  publishScript,
  serverMessages,
  statusCodes,
  type ExpectedMedia,
  type Run,
} from '@neon/rtmp/testing';

function mediaOf(run: Run): ExpectedMedia[] {
  const out: ExpectedMedia[] = [];
  // Events arrive in wire order across both types: rebuild that order.
  const all = [...(run.events.video ?? []), ...(run.events.audio ?? [])];
  for (const e of all)
    out.push({ type: e.tag.type as 8 | 9, timestamp: e.tag.timestamp, payload: e.tag.payload });
  return out.sort((a, b) => a.type - b.type || a.timestamp - b.timestamp);
}

function sorted(m: ExpectedMedia[]): ExpectedMedia[] {
  return [...m].sort((a, b) => a.type - b.type || a.timestamp - b.timestamp);
}

/** Feeds `bytes` in slices whose lengths come from `next`. */
function feedSliced(run: Run, bytes: Buffer, next: () => number): void {
  for (let pos = 0; pos < bytes.length;) {
    const n = Math.max(1, next());
    // A fresh copy per slice, as a socket delivers: the session may keep references to it.
    assert.equal(run.session.feed(Buffer.from(bytes.subarray(pos, pos + n))), undefined);
    pos += n;
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

test('a whole publish: connect, createStream, publish, metadata, every header type', () => {
  const { bytes, media } = publishScript();
  const run = newSession();
  assert.equal(run.session.feed(bytes), undefined);
  assert.equal(run.events.error, undefined);
  assert.equal(run.events.connect?.[0]?.app, 'live');
  assert.equal(run.events.connect?.[0]?.tcUrl, 'rtmp://127.0.0.1:1935/live');
  const pub = run.events.publish?.[0];
  assert.equal(pub?.streamKey, 'sk_test');
  assert.equal(pub?.publishType, 'live');
  assert.equal(pub?.streamId, 1);
  const meta = run.events.metadata?.[0]?.metadata;
  assert.equal(meta?.width, 1280);
  assert.equal(meta?.height, 720);
  assert.equal(meta?.framerate, 30);
  assert.equal(meta?.videocodecid, 7);
  assert.equal(meta?.audiocodecid, 10);
  assert.equal(meta?.videodatarate, 2500);
  assert.equal(meta?.encoder, 'obs-output module (libobs version 30.0.0)');
  assert.deepEqual(mediaOf(run), sorted(media));
  const v = run.events.video!;
  assert.equal(v[0]?.info.sequenceHeader, true);
  assert.equal(v[0]?.info.avc?.codec, 'avc1.64001f');
  assert.equal(v[1]?.info.keyframe, true);
  assert.equal(v[2]?.info.keyframe, false);
  assert.equal(run.events.audio?.[0]?.info.aac?.codec, 'mp4a.40.2');
  assert.equal(run.events.audio?.[0]?.info.aac?.channels, 2);
  assert.deepEqual(run.events.unpublish, [{ streamId: 1, reason: 'FCUnpublish' }]);
});

test('the server answers as ffmpeg and OBS expect', () => {
  const run = newSession();
  run.session.feed(publishScript().bytes);
  // S0 + S1 + S2, S2 echoing C1.
  const hs = Buffer.concat(run.sent).subarray(0, 3073);
  assert.equal(hs[0], 3);
  assert.deepEqual(hs.subarray(1 + 1536), handshake().subarray(1, 1537));
  assert.deepEqual(hs.subarray(5, 9), Buffer.alloc(4), 'S1 says: simple handshake');
  const msgs = serverMessages(run.sent);
  const [ack, bw, cs, result] = msgs;
  assert.equal(ack?.typeId, 5);
  assert.equal(ack?.payload.readUInt32BE(0), 2_500_000);
  assert.equal(bw?.typeId, 6);
  assert.equal(cs?.typeId, 1);
  assert.equal(cs?.payload.readUInt32BE(0), 4096);
  assert.equal(result?.values?.[0], '_result');
  assert.equal(result?.values?.[1], 1);
  assert.equal((result?.values?.[2] as AmfObject).fmsVer, 'FMS/3,5,7,7009');
  assert.equal((result?.values?.[3] as AmfObject).code, 'NetConnection.Connect.Success');
  const created = msgs.find((m) => m.values?.[0] === '_result' && m.values[1] === 4);
  assert.equal(created?.values?.[3], 1, 'createStream gives stream id 1');
  const begin = msgs.find((m) => m.typeId === 4);
  assert.equal(begin?.payload.readUInt16BE(0), 0, 'StreamBegin');
  assert.equal(begin?.payload.readUInt32BE(2), 1);
  assert.ok(msgs.some((m) => m.values?.[0] === 'onFCPublish'));
  assert.deepEqual(statusCodes(run.sent), ['NetStream.Publish.Start']);
});

test('one byte at a time and random slices give the same events as one feed', () => {
  const { bytes, media } = publishScript({ chunkSize: 128, frames: 20 });
  const whole = newSession();
  whole.session.feed(bytes);
  const ones = newSession();
  feedSliced(ones, bytes, () => 1);
  assert.deepEqual(mediaOf(ones), sorted(media));
  assert.deepEqual(mediaOf(ones), mediaOf(whole));
  assert.deepEqual(ones.events.metadata?.[0]?.metadata, whole.events.metadata?.[0]?.metadata);
  assert.deepEqual(Buffer.concat(ones.sent), Buffer.concat(whole.sent));
  for (let seed = 1; seed <= 50; seed++) {
    const r = rng(seed);
    const sliced = newSession();
    feedSliced(sliced, bytes, () => Math.floor(r() * (seed % 2 ? 40 : 3000)));
    assert.equal(sliced.events.error, undefined);
    assert.deepEqual(mediaOf(sliced), sorted(media), `seed ${seed}`);
    assert.deepEqual(Buffer.concat(sliced.sent), Buffer.concat(whole.sent));
  }
});

test('extended timestamps: above 0xFFFFFF, on deltas, across type-3 continuations, past the 32-bit wrap', () => {
  for (const [base, extendedDeltas] of [
    [0xfffffe, false],
    [0xffffff, false],
    [0x12345678, false],
    [0x12345678, true],
    [0xffffff00, false],
  ] as const) {
    const { bytes, media } = publishScript({ baseTimestamp: base, chunkSize: 128, extendedDeltas });
    const run = newSession();
    feedSliced(run, bytes, rng(base)); // slices of 0..1 bytes: one at a time
    assert.equal(run.events.error, undefined);
    assert.deepEqual(mediaOf(run), sorted(media), `base ${base}`);
    if (base === 0xffffff00) {
      assert.ok(
        media.some((m) => m.timestamp < 1000),
        'the script wraps past 2^32',
      );
    }
  }
});

test('type-3 continuations without the repeated extended timestamp (some encoders omit it)', () => {
  const run = newSession();
  run.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  const payload = Buffer.alloc(1000, 7);
  payload[0] = 0x27;
  const ts = 0x1000000;
  const withRepeat = chunkMessage({
    csid: 7,
    fmt: 0,
    typeId: 9,
    streamId: 1,
    timestamp: ts,
    payload,
    chunkSize: 4096,
  });
  // 4096-byte chunks: one chunk. Use a smaller message split at 128 via a fresh chunk stream:
  run.session.feed(withRepeat);
  const omit = chunkMessage({
    csid: 9,
    fmt: 0,
    typeId: 9,
    streamId: 1,
    timestamp: ts + 40,
    payload: Buffer.alloc(9000, 0x27),
    chunkSize: 4096,
    repeatExtended: false,
  });
  run.session.feed(omit);
  const repeat = chunkMessage({
    csid: 10,
    fmt: 0,
    typeId: 9,
    streamId: 1,
    timestamp: ts + 80,
    payload: Buffer.alloc(9000, 0x27),
    chunkSize: 4096,
  });
  run.session.feed(repeat);
  // And one byte at a time, where the absent timestamp is only known from the bytes after it.
  for (const b of [omit, repeat]) {
    for (let i = 0; i < b.length; i++) run.session.feed(b.subarray(i, i + 1));
  }
  assert.equal(run.events.error, undefined);
  const v = run.events.video!.slice(-5);
  assert.deepEqual(
    v.map((e) => [e.tag.timestamp, e.tag.payload.length]),
    [
      [ts, 1000],
      [ts + 40, 9000],
      [ts + 80, 9000],
      [ts + 40, 9000],
      [ts + 80, 9000],
    ],
  );
  // No timestamp byte slipped into a payload.
  for (const e of v.slice(1)) assert.ok(e.tag.payload.every((x) => x === 0x27));
});

test('chunk stream ids in the 2- and 3-byte forms, with continuations', () => {
  const run = newSession();
  run.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  for (const csid of [64, 319, 320, 65599]) {
    const payload = Buffer.alloc(5000, csid & 0xff);
    payload[0] = 0x27;
    run.session.feed(
      chunkMessage({
        csid,
        fmt: 0,
        typeId: 9,
        streamId: 1,
        timestamp: csid,
        payload,
        chunkSize: 4096,
      }),
    );
  }
  assert.equal(run.events.error, undefined);
  assert.deepEqual(
    run.events
      .video!.slice(-4)
      .map((e) => [e.tag.timestamp, e.tag.payload[1], e.tag.payload.length]),
    [
      [64, 64, 5000],
      [319, 319 & 0xff, 5000],
      [320, 320 & 0xff, 5000],
      [65599, 65599 & 0xff, 5000],
    ],
  );
});

test('Abort Message drops the unfinished message of that chunk stream only', () => {
  const run = newSession();
  run.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  const big = chunkMessage({
    csid: 6,
    fmt: 0,
    typeId: 9,
    streamId: 1,
    timestamp: 100,
    payload: Buffer.alloc(10000, 0x27),
    chunkSize: 4096,
  });
  run.session.feed(big.subarray(0, 12 + 4096)); // first chunk only
  const abort = Buffer.alloc(4);
  abort.writeUInt32BE(6, 0);
  run.session.feed(chunkMessage({ csid: 2, fmt: 0, typeId: 2, payload: abort, chunkSize: 4096 }));
  assert.equal(run.session.bufferedBytes, 0);
  const next = Buffer.alloc(50, 0x17);
  run.session.feed(
    chunkMessage({
      csid: 6,
      fmt: 0,
      typeId: 9,
      streamId: 1,
      timestamp: 200,
      payload: next,
      chunkSize: 4096,
    }),
  );
  const v = run.events.video!;
  assert.deepEqual(
    v.slice(-1).map((e) => [e.tag.timestamp, e.tag.payload.length]),
    [[200, 50]],
  );
  assert.ok(!v.some((e) => e.tag.timestamp === 100));
});

test('acknowledgement after every window of bytes; ping answered with pong', () => {
  const run = newSession({ windowAckSize: 2_500_000 });
  run.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  // The peer asks for acknowledgements every 5000 bytes.
  const win = Buffer.alloc(4);
  win.writeUInt32BE(5000, 0);
  run.session.feed(chunkMessage({ csid: 2, fmt: 0, typeId: 5, payload: win, chunkSize: 4096 }));
  const before = serverMessages(run.sent).filter((m) => m.typeId === 3).length;
  for (let i = 0; i < 10; i++) {
    run.session.feed(
      chunkMessage({
        csid: 6,
        fmt: 0,
        typeId: 9,
        streamId: 1,
        timestamp: i * 33,
        payload: Buffer.alloc(2000, 0x27),
        chunkSize: 4096,
      }),
    );
  }
  const acks = serverMessages(run.sent)
    .filter((m) => m.typeId === 3)
    .slice(before);
  assert.ok(acks.length >= 3 && acks.length <= 5, `acks: ${acks.length}`);
  const last = acks[acks.length - 1]!.payload.readUInt32BE(0);
  assert.ok(last <= run.session.bytesReceived && last > run.session.bytesReceived - 5000);

  const ping = Buffer.alloc(6);
  ping.writeUInt16BE(6, 0);
  ping.writeUInt32BE(123456, 2);
  run.session.feed(chunkMessage({ csid: 2, fmt: 0, typeId: 4, payload: ping, chunkSize: 4096 }));
  const pong = serverMessages(run.sent)
    .filter((m) => m.typeId === 4)
    .pop();
  assert.equal(pong?.payload.readUInt16BE(0), 7);
  assert.equal(pong?.payload.readUInt32BE(2), 123456);

  run.session.ping(42);
  const req = serverMessages(run.sent)
    .filter((m) => m.typeId === 4)
    .pop();
  assert.equal(req?.payload.readUInt16BE(0), 6);
  const resp = Buffer.alloc(6);
  resp.writeUInt16BE(7, 0);
  resp.writeUInt32BE(42, 2);
  run.session.feed(chunkMessage({ csid: 2, fmt: 0, typeId: 4, payload: resp, chunkSize: 4096 }));
  assert.deepEqual(run.events.pong, [{ timestamp: 42 }]);
});

test('the host decides later: media before accept is dropped, after accept it flows', () => {
  const run = newSession({}, 'none');
  run.session.feed(publishScript({ frames: 3, unpublish: false }).bytes);
  const req = run.events.publish![0]!;
  assert.deepEqual(statusCodes(run.sent), []);
  assert.equal(run.events.video?.length ?? 0, 0);
  assert.equal(run.events.metadata, undefined);
  assert.equal(req.accept(), true);
  assert.equal(req.accept(), false, 'decided once');
  assert.equal(req.reject(), false);
  assert.deepEqual(statusCodes(run.sent), ['NetStream.Publish.Start']);
  const payload = Buffer.alloc(100, 0x17);
  run.session.feed(
    chunkMessage({
      csid: 6,
      fmt: 0,
      typeId: 9,
      streamId: 1,
      timestamp: 500,
      payload,
      chunkSize: 4096,
    }),
  );
  assert.deepEqual(
    run.events.video?.map((e) => e.tag.timestamp),
    [500],
  );
});

test('reject: BadName (or Denied) is sent and later input is ignored; end() after reject emits nothing', () => {
  const run = newSession({}, 'reject');
  run.session.feed(publishScript().bytes);
  assert.deepEqual(statusCodes(run.sent), ['NetStream.Publish.BadName']);
  assert.equal(run.session.phase, 'rejected');
  assert.equal(run.events.video?.length ?? 0, 0);
  assert.equal(run.events.metadata, undefined);
  run.session.end();
  assert.equal(run.events.unpublish, undefined);

  const denied = newSession({}, 'none');
  denied.session.feed(publishScript({ frames: 0 }).bytes);
  // deleteStream was in the script: the request is void.
  assert.equal(denied.events.publish![0]!.reject({ status: 'NetStream.Publish.Denied' }), false);
  const d2 = newSession({}, 'none');
  d2.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  assert.equal(d2.events.publish![0]!.reject({ status: 'NetStream.Publish.Denied' }), true);
  assert.deepEqual(statusCodes(d2.sent), ['NetStream.Publish.Denied']);
});

test('end() while publishing emits one unpublish (disconnect); accept after end is refused', () => {
  const run = newSession();
  run.session.feed(publishScript({ frames: 2, unpublish: false }).bytes);
  run.session.end();
  run.session.end();
  assert.deepEqual(run.events.unpublish, [{ streamId: 1, reason: 'disconnect' }]);
  const late = newSession({}, 'none');
  late.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  late.session.end();
  assert.equal(late.events.publish![0]!.accept(), false);
  assert.equal(late.events.unpublish, undefined);
});

test('a second publish on the same connection is refused with BadName', () => {
  const run = newSession();
  run.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  run.session.feed(command(8, 1, 4096, 'publish', 9, null, 'other', 'live'));
  assert.equal(run.events.publish?.length, 1);
  assert.deepEqual(statusCodes(run.sent), ['NetStream.Publish.Start', 'NetStream.Publish.BadName']);
});

test('publish name with a query: the key is the part before ?', () => {
  const run = newSession();
  run.session.feed(publishScript({ frames: 0, publishName: 'sk_abc?token=1&x=2' }).bytes);
  assert.equal(run.events.publish?.[0]?.streamKey, 'sk_abc');
  assert.equal(run.events.publish?.[0]?.query, 'token=1&x=2');
});

test('onMetaData sent directly (no @setDataFrame) and as an object is understood', () => {
  const run = newSession();
  run.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  run.session.feed(
    chunkMessage({
      csid: 4,
      fmt: 0,
      typeId: 18,
      streamId: 1,
      chunkSize: 4096,
      payload: amf0Encode(
        'onMetaData',
        amfObject({ width: 1920, height: 1080, fps: 60, videocodecid: 'avc1' }),
      ),
    }),
  );
  const m = run.events.metadata!.at(-1)!.metadata;
  assert.equal(m.width, 1920);
  assert.equal(m.framerate, 60);
  assert.equal(m.videocodecid, 'avc1');
});

test('aggregate messages are split into their audio and video tags', () => {
  const run = newSession();
  run.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  const sub = (type: number, ts: number, payload: Buffer): Buffer => {
    const h = Buffer.alloc(11);
    h[0] = type;
    h.writeUIntBE(payload.length, 1, 3);
    h.writeUIntBE(ts & 0xffffff, 4, 3);
    h[7] = ts >>> 24;
    const back = Buffer.alloc(4);
    back.writeUInt32BE(11 + payload.length, 0);
    return Buffer.concat([h, payload, back]);
  };
  const agg = Buffer.concat([
    sub(9, 5000, Buffer.alloc(40, 0x27)),
    sub(8, 5010, Buffer.alloc(20, 0xaf)),
    sub(9, 5033, Buffer.alloc(30, 0x27)),
  ]);
  run.session.feed(
    chunkMessage({
      csid: 6,
      fmt: 0,
      typeId: 22,
      streamId: 1,
      timestamp: 1000,
      payload: agg,
      chunkSize: 4096,
    }),
  );
  const v = run.events.video!.slice(-2);
  assert.deepEqual(
    v.map((e) => e.tag.timestamp),
    [1000, 1033],
  );
  assert.equal(run.events.audio!.at(-1)!.tag.timestamp, 1010);
});

test('end() from inside a listener stops the read quietly', () => {
  const run = newSession();
  run.session.on('metadata', () => run.session.end());
  assert.equal(run.session.feed(publishScript().bytes), undefined);
  assert.equal(run.session.phase, 'closed');
  assert.equal(run.events.error, undefined);
  assert.equal(run.events.video?.length ?? 0, 0);
  assert.deepEqual(run.events.unpublish, [{ streamId: 1, reason: 'disconnect' }]);
  assert.equal(run.session.bufferedBytes, 0);
});

test('type-3 headers that start messages: after a type 0 they repeat its timestamp as the delta', () => {
  const run = newSession();
  run.session.feed(publishScript({ frames: 0, unpublish: false }).bytes);
  const before = run.events.video!.length;
  const frame = Buffer.alloc(5000, 0x27);
  const msgs = [
    chunkMessage({
      csid: 7,
      fmt: 0,
      typeId: 9,
      streamId: 1,
      timestamp: 40,
      payload: frame,
      chunkSize: 4096,
    }),
    chunkMessage({ csid: 7, fmt: 3, payload: frame, chunkSize: 4096 }),
    chunkMessage({ csid: 7, fmt: 2, timestamp: 10, payload: frame, chunkSize: 4096 }),
    chunkMessage({ csid: 7, fmt: 3, payload: frame, chunkSize: 4096 }),
    chunkMessage({ csid: 7, fmt: 3, payload: frame, chunkSize: 4096 }),
  ];
  run.session.feed(Buffer.concat(msgs));
  assert.deepEqual(
    run.events.video!.slice(before).map((e) => e.tag.timestamp),
    [40, 80, 90, 100, 110],
  );
});

test('the publish request never shows its key to a logger or console', async () => {
  const { inspect } = await import('node:util');
  const run = newSession({}, 'none');
  run.session.feed(publishScript({ frames: 0, unpublish: false, publishName: 'sk_secret' }).bytes);
  const req = run.events.publish![0]!;
  assert.equal(req.streamKey, 'sk_secret');
  assert.ok(!JSON.stringify({ req }).includes('sk_secret'));
  assert.ok(!inspect(req).includes('sk_secret'));
});
