import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AmfEcmaArray,
  AmfTypedObject,
  AmfXmlDocument,
  amf0DecodeAll,
  amf0DecodeOne,
  amf0Encode,
  amfObject,
  isRtmpProtocolError,
  type AmfValue,
} from '@neon/rtmp';

function roundTrip(v: AmfValue): AmfValue {
  const bytes = amf0Encode(v);
  const { value, end } = amf0DecodeOne(bytes);
  assert.equal(end, bytes.length);
  // Decoding then encoding again yields the same bytes.
  assert.deepEqual(amf0Encode(value), bytes);
  return value;
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isRtmpProtocolError(err)) return err.code;
    throw err;
  }
  return 'no error';
}

test('every AMF0 type round-trips', () => {
  for (const n of [0, -0, 1.5, -1e300, Number.MAX_SAFE_INTEGER, Infinity, 2 ** 32]) {
    assert.equal(roundTrip(n), n);
  }
  assert.ok(Number.isNaN(roundTrip(NaN)));
  assert.equal(roundTrip(true), true);
  assert.equal(roundTrip(false), false);
  assert.equal(roundTrip(''), '');
  assert.equal(roundTrip('héllo ✓'), 'héllo ✓');
  const long = 'x'.repeat(70_000);
  assert.equal(amf0Encode(long)[0], 0x0c, 'long string marker beyond 65535 bytes');
  assert.equal(roundTrip(long), long);
  assert.equal(roundTrip(null), null);
  assert.equal(roundTrip(undefined), undefined);
  const d = roundTrip(new Date(1_700_000_000_123));
  assert.ok(d instanceof Date && d.getTime() === 1_700_000_000_123);
  const obj = amfObject({ app: 'live', n: 3, nested: amfObject({ a: [1, 'two', null] }) });
  assert.deepEqual(roundTrip(obj), obj);
  const ecma = new AmfEcmaArray(amfObject({ width: 640, height: 360, encoder: 'Lavf59' }));
  const e = roundTrip(ecma);
  assert.ok(e instanceof AmfEcmaArray);
  assert.deepEqual(e.properties, ecma.properties);
  assert.deepEqual(roundTrip([1, [2, [3]], amfObject({})]), [1, [2, [3]], amfObject({})]);
  const typed = roundTrip(new AmfTypedObject('com.example.Thing', amfObject({ x: 1 })));
  assert.ok(typed instanceof AmfTypedObject && typed.className === 'com.example.Thing');
  const xml = roundTrip(new AmfXmlDocument('<a/>'));
  assert.ok(xml instanceof AmfXmlDocument && xml.xml === '<a/>');
});

test('decodes bytes as ffmpeg writes them (connect command)', () => {
  const bytes = Buffer.concat([
    Buffer.from('020007636f6e6e656374', 'hex'), // "connect"
    Buffer.from('003ff0000000000000', 'hex'), // 1
    Buffer.from('03', 'hex'),
    Buffer.from('0003617070020004', 'hex'),
    Buffer.from('live'),
    Buffer.from('000009', 'hex'),
  ]);
  const values = amf0DecodeAll(bytes);
  assert.equal(values[0], 'connect');
  assert.equal(values[1], 1);
  assert.deepEqual(values[2], amfObject({ app: 'live' }));
});

test('a peer key named __proto__ is an ordinary key', () => {
  const bytes = Buffer.concat([
    Buffer.of(0x03, 0, 9),
    Buffer.from('__proto__'),
    Buffer.of(0x03, 0, 1),
    Buffer.from('x'),
    Buffer.of(0x01, 1, 0, 0, 9, 0, 0, 9),
  ]);
  const { value } = amf0DecodeOne(bytes);
  assert.equal(Object.getPrototypeOf(value), null);
  assert.equal(({} as Record<string, unknown>).x, undefined);
  assert.deepEqual(Object.keys(value as object), ['__proto__']);
});

test('malformed input: truncated, unknown markers, AMF3, references', () => {
  const full = amf0Encode('connect', 1, amfObject({ app: 'live', tcUrl: 'rtmp://x/live' }));
  for (let cut = 1; cut < full.length; cut++) {
    // 10 and 19 end a value ("connect", then 1): a shorter command, not a truncated one.
    if (cut === 10 || cut === 19) continue;
    const c = code(() => amf0DecodeAll(full.subarray(0, cut)));
    assert.equal(c, 'RTMP_AMF_INVALID', `cut at ${cut}`);
  }
  assert.equal(
    code(() => amf0DecodeOne(Buffer.of(0x42))),
    'RTMP_AMF_INVALID',
  );
  assert.equal(
    code(() => amf0DecodeOne(Buffer.of(0x11, 0x06))),
    'RTMP_AMF_UNSUPPORTED',
  );
  assert.equal(
    code(() => amf0DecodeOne(Buffer.of(0x07, 0, 0))),
    'RTMP_AMF_UNSUPPORTED',
  );
  // An ECMA array whose count lies is read up to its terminator.
  const lying = Buffer.concat([
    Buffer.of(0x08, 0xff, 0xff, 0xff, 0xff, 0, 1),
    Buffer.from('a'),
    Buffer.of(5, 0, 0, 9),
  ]);
  const v = amf0DecodeOne(lying).value;
  assert.ok(v instanceof AmfEcmaArray && v.properties.a === null);
});

test('AMF bombs: deep nesting, huge counts and too many values are refused quickly', () => {
  const deep = Buffer.alloc(1_000_000, 0x0a); // strict arrays of strict arrays...
  for (let i = 0; i < deep.length; i += 5) deep.writeUInt32BE(1, i + 1);
  assert.equal(
    code(() => amf0DecodeOne(deep)),
    'RTMP_AMF_TOO_DEEP',
  );
  const deepObjects = Buffer.concat(
    Array.from({ length: 10_000 }, () => Buffer.of(0x03, 0, 1, 0x61)),
  );
  assert.equal(
    code(() => amf0DecodeOne(deepObjects)),
    'RTMP_AMF_TOO_DEEP',
  );
  // A strict array claiming 4 billion values in 5 bytes.
  assert.equal(
    code(() => amf0DecodeOne(Buffer.of(0x0a, 0xff, 0xff, 0xff, 0xff))),
    'RTMP_AMF_INVALID',
  );
  // A flat array of 50,000 nulls: more values than a message may hold.
  const wide = Buffer.alloc(5 + 50_000, 0x05);
  wide[0] = 0x0a;
  wide.writeUInt32BE(50_000, 1);
  assert.equal(
    code(() => amf0DecodeOne(wide)),
    'RTMP_AMF_TOO_MANY_ELEMENTS',
  );
  // The budget covers the whole message, not each value.
  const many = Buffer.alloc(20_000, 0x05);
  assert.equal(
    code(() => amf0DecodeAll(many)),
    'RTMP_AMF_TOO_MANY_ELEMENTS',
  );
  // Within limits, custom limits apply.
  assert.equal(
    amf0DecodeAll(Buffer.alloc(100, 0x05), 0, { maxDepth: 2, maxElements: 100 }).length,
    100,
  );
  assert.equal(
    code(() => amf0DecodeAll(Buffer.alloc(101, 0x05), 0, { maxDepth: 2, maxElements: 100 })),
    'RTMP_AMF_TOO_MANY_ELEMENTS',
  );
});
