import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChunkDecoder,
  DEFAULT_CHUNK_SIZE,
  defaultChunkLimits,
  encodeChunks,
  type ChunkLimits,
  type RtmpMessage,
} from '@neon/rtmp';
import { basicHeader } from '@neon/rtmp/testing';

function decoder(limits: Partial<ChunkLimits> = {}): { d: ChunkDecoder; got: RtmpMessage[] } {
  const got: RtmpMessage[] = [];
  const d = new ChunkDecoder({ ...defaultChunkLimits, ...limits }, (m) =>
    got.push({ ...m, payload: Buffer.from(m.payload) }),
  );
  return { d, got };
}

const payload = (n: number, seed = 1) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

/** A type-0 header announcing `length` bytes on `csid`, no payload. */
function header(csid: number, length: number): Buffer {
  const h = Buffer.alloc(11);
  h.writeUIntBE(length, 3, 3);
  h[6] = 9;
  h.writeUInt32LE(1, 7);
  return Buffer.concat([basicHeader(0, csid), h]);
}

test('what we send decodes back to the same message, for every header form and size', () => {
  for (const csid of [2, 63, 64, 319, 320, 65599]) {
    for (const timestamp of [0, 0xfffffe, 0xffffff, 0x12345678]) {
      for (const size of [0, 1, 127, 128, 129, 300]) {
        const body = payload(size, csid);
        const bytes = encodeChunks(csid, 9, 1, timestamp, body, 128);
        const basic = csid < 64 ? 1 : csid < 320 ? 2 : 3;
        const ext = timestamp >= 0xffffff ? 4 : 0;
        const chunks = Math.max(1, Math.ceil(size / 128));
        assert.equal(
          bytes.length,
          basic + 11 + ext + size + (chunks - 1) * (basic + ext),
          `${csid} ${timestamp} ${size}`,
        );
        const { d, got } = decoder();
        d.push(bytes);
        assert.deepEqual(
          got,
          [{ csid, typeId: 9, streamId: 1, timestamp, payload: body }],
          `${csid} ${timestamp} ${size}`,
        );
      }
    }
  }
});

test('the basic header takes one, two or three bytes as the chunk stream id needs', () => {
  assert.deepEqual([...encodeChunks(63, 20, 0, 0, Buffer.of(1), 128).subarray(0, 1)], [63]);
  assert.deepEqual([...encodeChunks(64, 20, 0, 0, Buffer.of(1), 128).subarray(0, 2)], [0, 0]);
  assert.deepEqual([...encodeChunks(319, 20, 0, 0, Buffer.of(1), 128).subarray(0, 2)], [0, 255]);
  assert.deepEqual([...encodeChunks(320, 20, 0, 0, Buffer.of(1), 128).subarray(0, 3)], [1, 0, 1]);
  assert.deepEqual(
    [...encodeChunks(65599, 20, 0, 0, Buffer.of(1), 128).subarray(0, 3)],
    [1, 255, 255],
  );
  // Continuations repeat the id in the same form, with fmt 3.
  const two = encodeChunks(320, 20, 0, 0, payload(129), 128);
  assert.deepEqual([...two.subarray(3 + 11 + 128, 3 + 11 + 128 + 3)], [0xc1, 0, 1]);
  for (const bad of [0, 1, 65600])
    assert.throws(() => encodeChunks(bad, 20, 0, 0, Buffer.of(1), 128), RangeError);
});

test('an extended timestamp is written once in the header and again on each continuation', () => {
  const bytes = encodeChunks(6, 9, 1, 0x01000000, payload(200), 128);
  assert.deepEqual([...bytes.subarray(1, 4)], [0xff, 0xff, 0xff]);
  assert.deepEqual([...bytes.subarray(12, 16)], [1, 0, 0, 0]);
  const cont = 1 + 11 + 4 + 128;
  assert.deepEqual([...bytes.subarray(cont, cont + 5)], [0xc6, 1, 0, 0, 0]);
  // Below 0xFFFFFF the header carries it and nothing follows.
  const small = encodeChunks(6, 9, 1, 0xfffffe, payload(200), 128);
  assert.deepEqual([...small.subarray(1, 4)], [0xff, 0xff, 0xfe]);
  assert.equal(small[1 + 11 + 128], 0xc6);
  assert.equal(small[1 + 11 + 128 + 1], payload(200)[128]);
});

test('input split anywhere, down to single bytes, gives the same messages', () => {
  const stream = Buffer.concat([
    encodeChunks(3, 20, 0, 5, payload(300, 3), 128),
    encodeChunks(64, 9, 1, 0x01000000, payload(260, 4), 128),
    encodeChunks(320, 8, 1, 7, payload(0), 128),
    encodeChunks(6, 9, 1, 0xffffff, payload(128, 5), 128),
  ]);
  const whole = decoder();
  whole.d.push(stream);
  assert.equal(whole.got.length, 4);
  for (const step of [1, 2, 3, 5, 13, 17, 127]) {
    const { d, got } = decoder();
    for (let i = 0; i < stream.length; i += step) d.push(stream.subarray(i, i + step));
    assert.deepEqual(got, whole.got, `in pieces of ${step}`);
    assert.equal(d.bufferedBytes, 0);
  }
});

test('a partial header is held and counted; an unfinished message counts its full length', () => {
  const { d, got } = decoder();
  const bytes = encodeChunks(6, 9, 1, 0, payload(300), 128);
  d.push(bytes.subarray(0, 5));
  assert.equal(d.bufferedBytes, 5);
  d.push(bytes.subarray(5, 13));
  assert.equal(d.bufferedBytes, 300);
  assert.equal(d.inFlightStreams, 1);
  d.push(bytes.subarray(13));
  assert.equal(got.length, 1);
  assert.equal(d.bufferedBytes, 0);
  assert.equal(d.inFlightStreams, 0);
});

test('a zero-length message is delivered at once with an empty body', () => {
  const { d, got } = decoder();
  d.push(header(5, 0));
  assert.equal(got.length, 1);
  assert.equal(got[0]!.payload.length, 0);
  assert.equal(got[0]!.csid, 5);
});

test('chunk size: the peer may set 1 up to the limit, nothing outside', () => {
  const { d } = decoder({ maxChunkSize: 4096 });
  assert.equal(d.peerChunkSize, DEFAULT_CHUNK_SIZE);
  d.setChunkSize(4096);
  assert.equal(d.peerChunkSize, 4096);
  d.setChunkSize(1);
  assert.equal(d.peerChunkSize, 1);
  for (const bad of [0, -1, 4097]) {
    assert.throws(() => d.setChunkSize(bad), { code: 'RTMP_CHUNK_SIZE_INVALID' });
  }
  assert.equal(d.peerChunkSize, 1);
});

test('limits hold exactly at their figure: streams opened, unfinished, bytes unfinished', () => {
  const opened = decoder({ maxChunkStreams: 4 });
  for (let csid = 3; csid < 7; csid++) opened.d.push(header(csid, 0));
  assert.equal(opened.got.length, 4);
  assert.throws(() => opened.d.push(header(7, 0)), { code: 'RTMP_TOO_MANY_CHUNK_STREAMS' });

  // Chunks of one byte, so that headers of other streams may follow each.
  const unfinished = decoder({ maxChunkStreamsInFlight: 2 });
  unfinished.d.setChunkSize(1);
  unfinished.d.push(Buffer.concat([header(3, 10), Buffer.of(1), header(4, 10), Buffer.of(1)]));
  assert.equal(unfinished.d.inFlightStreams, 2);
  assert.throws(() => unfinished.d.push(Buffer.concat([header(5, 10), Buffer.of(1)])), {
    code: 'RTMP_TOO_MANY_CHUNK_STREAMS',
  });

  const bytes = decoder({ maxBufferedBytes: 300 });
  bytes.d.setChunkSize(1);
  bytes.d.push(Buffer.concat([header(3, 200), Buffer.of(1), header(4, 100), Buffer.of(1)]));
  assert.equal(bytes.d.bufferedBytes, 300);
  assert.throws(
    () => bytes.d.push(Buffer.concat([header(5, 1), Buffer.of(1), header(6, 2), Buffer.of(1)])),
    {
      code: 'RTMP_BUFFER_LIMIT_EXCEEDED',
    },
  );
});

test('a continuation on a stream never opened with a full header is refused', () => {
  for (const fmt of [1, 2, 3] as const) {
    const { d } = decoder();
    assert.throws(() => d.push(Buffer.concat([basicHeader(fmt, 9), Buffer.alloc(11)])), {
      code: 'RTMP_CHUNK_HEADER_INVALID',
    });
  }
});

test('abort drops one unfinished message; reset drops all and ignores what follows', () => {
  const { d, got } = decoder();
  d.setChunkSize(1);
  d.push(Buffer.concat([header(3, 10), Buffer.of(1), header(4, 10), Buffer.of(3)]));
  assert.equal(d.bufferedBytes, 20);
  d.abort(3);
  assert.equal(d.bufferedBytes, 10);
  assert.equal(d.inFlightStreams, 1);
  d.abort(3);
  d.abort(99);
  assert.equal(d.bufferedBytes, 10);
  // The stream aborted starts over with a new message.
  d.push(encodeChunks(3, 9, 1, 0, payload(4), 1));
  assert.equal(got.length, 1);
  assert.deepEqual(got[0]!.payload, payload(4));

  d.push(encodeChunks(5, 9, 1, 0, payload(300), 1).subarray(0, 20));
  d.reset();
  assert.equal(d.bufferedBytes, 0);
  assert.equal(d.inFlightStreams, 0);
  d.push(encodeChunks(7, 9, 1, 0, payload(4), 1));
  assert.equal(got.length, 1);
});

test('a new full header in the middle of a message abandons the old one', () => {
  const { d, got } = decoder();
  d.setChunkSize(3);
  d.push(Buffer.concat([header(3, 10), Buffer.of(1, 2, 3)]));
  assert.equal(d.bufferedBytes, 10);
  d.push(encodeChunks(3, 9, 1, 0, payload(5), 3));
  assert.equal(got.length, 1);
  assert.deepEqual(got[0]!.payload, payload(5));
  assert.equal(d.bufferedBytes, 0);
  assert.equal(d.inFlightStreams, 0);
});

test('a type-3 header that starts a message after an extended timestamp reads its own', () => {
  // Type 0 at 0x01000000 (extended), then two messages with bare type-3 headers:
  // each carries an extended field, and that field is the delta it adds.
  const first = encodeChunks(6, 9, 1, 0x01000000, payload(4, 1), 128);
  const next = (field: number, seed: number) => {
    const b = Buffer.alloc(5 + 4);
    b[0] = 0xc6;
    b.writeUInt32BE(field, 1);
    payload(4, seed).copy(b, 5);
    return b;
  };
  const { d, got } = decoder();
  d.push(Buffer.concat([first, next(0x01000000, 2), next(0x00000010, 3)]));
  assert.deepEqual(
    got.map((m) => [m.timestamp, [...m.payload]]),
    [
      [0x01000000, [...payload(4, 1)]],
      [0x02000000, [...payload(4, 2)]],
      [0x02000010, [...payload(4, 3)]],
    ],
  );
  assert.equal(d.bufferedBytes, 0);
});
