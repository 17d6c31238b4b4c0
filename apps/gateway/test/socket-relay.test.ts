import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { FrameBoundaries, closeFrame } from '../src/socket/frames.js';
import { Relays } from '../src/socket/relay.js';

// A server's text frame (unmasked), and a client's (masked), as RFC 6455 §5.2 lays them out.
function textFrame(payload: Buffer, mask?: Buffer): Buffer {
  const len = payload.length;
  const ext = len < 126 ? Buffer.alloc(0) : len < 65536 ? Buffer.alloc(2) : Buffer.alloc(8);
  if (len >= 126 && len < 65536) ext.writeUInt16BE(len);
  else if (len >= 65536) ext.writeBigUInt64BE(BigInt(len));
  const len7 = len < 126 ? len : len < 65536 ? 126 : 127;
  const head = Buffer.from([0x81, (mask ? 0x80 : 0) | len7]);
  const body = mask ? Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!)) : payload;
  return Buffer.concat([head, ext, mask ?? Buffer.alloc(0), body]);
}

test('frame boundaries are found in every header form, fed in pieces down to single bytes', () => {
  const frames = [
    textFrame(Buffer.alloc(0)),
    textFrame(Buffer.alloc(125, 1)),
    textFrame(Buffer.alloc(126, 2)),
    textFrame(Buffer.alloc(70_000, 3)),
    textFrame(Buffer.alloc(300, 4), Buffer.from([1, 2, 3, 4])),
    closeFrame(1012, 'service restart'),
  ];
  const stream = Buffer.concat(frames);
  const ends = new Set<number>();
  let at = 0;
  for (const f of frames) ends.add((at += f.length));
  for (const piece of [1, 3, 7, 1000, stream.length]) {
    const seen: number[] = [];
    const reader = new FrameBoundaries((op) => seen.push(op));
    const boundaries: number[] = [];
    for (let i = 0; i < stream.length;) {
      const chunk = stream.subarray(i, Math.min(i + piece, stream.length));
      // Read up to each boundary in turn, as a stopping relay does.
      let off = 0;
      while (off < chunk.length) {
        const n = reader.consume(chunk.subarray(off), true);
        off += n === 0 ? reader.consume(chunk.subarray(off, off + 1)) : n;
        if (reader.atBoundary) boundaries.push(i + off);
      }
      i += chunk.length;
    }
    assert.deepEqual(new Set(boundaries), ends, `pieces of ${piece}`);
    assert.deepEqual(seen, [1, 1, 1, 1, 1, 8]);
  }
});

let server: Server;
const accepted: Socket[] = [];
const waiting: ((s: Socket) => void)[] = [];
before(async () => {
  server = createServer((s) => {
    const w = waiting.shift();
    if (w) w(s);
    else accepted.push(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});
after(() => server.close());

/** Both ends of a real TCP connection. */
async function pair(): Promise<[Socket, Socket]> {
  const { port } = server.address() as { port: number };
  const far = accepted.shift() ?? new Promise<Socket>((resolve) => waiting.push(resolve));
  const near = connect(port, '127.0.0.1');
  await once(near, 'connect');
  return [near, await far];
}

function collect(s: Socket): { bytes: () => Buffer; ended: Promise<unknown> } {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return { bytes: () => Buffer.concat(chunks), ended: once(s, 'close') };
}

test('a stopping relay lets the frame in progress finish, then sends 1012 and ends on the answer', async () => {
  const [browser, gatewaySide] = await pair();
  const [gatewayUp, chat] = await pair();
  const relays = new Relays();
  relays.add(gatewaySide, gatewayUp, Buffer.alloc(0), Buffer.alloc(0));
  const got = collect(browser);

  const message = textFrame(Buffer.alloc(5000, 0x61));
  chat.write(message.subarray(0, 1000));
  // Some of the frame reached the browser: the relay is now mid-frame.
  while (got.bytes().length < 1000) await new Promise((r) => setImmediate(r));
  const drained = relays.drain();
  chat.write(message.subarray(1000));
  // What chat sends after its frame ended is not relayed: the gateway's close came first.
  chat.write(textFrame(Buffer.from('late')));
  const close = closeFrame(1012, 'service restart');
  while (got.bytes().length < message.length + close.length)
    await new Promise((r) => setImmediate(r));
  assert.deepEqual(got.bytes(), Buffer.concat([message, close]));

  // The browser answers the close; the relay ends both connections.
  browser.write(Buffer.from([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xf4 ^ 2]));
  await drained;
  await got.ended;
  assert.equal(relays.size, 0);
});

test('while stopping, a relay added late is ended at once; a close chat started runs its course', async () => {
  const relays = new Relays();
  const [browser, gatewaySide] = await pair();
  const [gatewayUp, chat] = await pair();
  relays.add(gatewaySide, gatewayUp, Buffer.alloc(0), Buffer.alloc(0));
  const got = collect(browser);
  // Chat closes first with its own code; the gateway stopping must not send a second close.
  const chatClose = closeFrame(1012, 'service restart');
  chat.write(chatClose);
  while (got.bytes().length < chatClose.length) await new Promise((r) => setImmediate(r));
  const drained = relays.drain();
  chat.end();
  await drained;
  assert.deepEqual(got.bytes(), chatClose);

  const [browser2, gatewaySide2] = await pair();
  const [gatewayUp2] = await pair();
  const got2 = collect(browser2);
  relays.add(gatewaySide2, gatewayUp2, Buffer.alloc(0), Buffer.alloc(0));
  while (got2.bytes().length < chatClose.length) await new Promise((r) => setImmediate(r));
  assert.deepEqual(got2.bytes(), closeFrame(1012, 'service restart'));
  browser2.destroy();
});
