import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import type { Socket as TcpSocket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ChatMessage } from '@neon/contracts';
import { clientHeaders } from '@neon/kit';
import { waitFor } from '@neon/testing';
import {
  collect,
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
  type TestUser,
} from './helpers.js';

/** A client frame: text or close, masked as RFC 6455 requires of clients. */
function clientFrame(opcode: 0x1 | 0x8, payload: Buffer): Buffer {
  assert.ok(payload.length < 126);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}

interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/**
 * A WebSocket spoken by hand over TCP, so a frame can be written after the
 * server's close frame arrived, as a client whose send crossed the close does.
 */
class HandSocket {
  private buffered = Buffer.alloc(0);
  private readonly frames: ServerFrame[] = [];
  private waiting: (() => void) | null = null;
  readonly ended: Promise<void>;

  constructor(readonly tcp: TcpSocket) {
    tcp.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.parse();
    });
    this.ended = new Promise((resolve) => tcp.once('close', () => resolve()));
  }

  private parse(): void {
    for (;;) {
      if (this.buffered.length < 2) return;
      let length = this.buffered[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffered.length < 4) return;
        length = this.buffered.readUInt16BE(2);
        offset = 4;
      }
      if (this.buffered.length < offset + length) return;
      this.frames.push({
        opcode: this.buffered[0]! & 0x0f,
        payload: this.buffered.subarray(offset, offset + length),
      });
      this.buffered = this.buffered.subarray(offset + length);
      this.waiting?.();
    }
  }

  async next(match: (f: ServerFrame) => boolean): Promise<ServerFrame> {
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  sendText(text: string): void {
    this.tcp.write(clientFrame(0x1, Buffer.from(text)));
  }

  /** The Phoenix reply to the frame with `ref`. */
  async reply(ref: string): Promise<{ status: string }> {
    const f = await this.next((x) => {
      if (x.opcode !== 0x1) return false;
      const parsed = JSON.parse(x.payload.toString()) as unknown[];
      return parsed[1] === ref && parsed[3] === 'phx_reply';
    });
    return (
      JSON.parse(f.payload.toString()) as [unknown, unknown, unknown, unknown, { status: string }]
    )[4];
  }
}

/** Upgrades as the gateway does for `user` holding a ticket of session `sessionId`. */
function handSocket(replica: Replica, secret: string, user: TestUser, sessionId: string) {
  const url = new URL(`${replica.socketUrl}/websocket?vsn=2.0.0`);
  return new Promise<HandSocket>((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers: {
        ...clientHeaders(
          { id: user.id, username: user.username, roles: ['user'], sessionId },
          secret,
        ),
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
      },
    });
    req.once('upgrade', (_res, tcp, head) => {
      const s = new HandSocket(tcp);
      if (head.length > 0) tcp.unshift(head);
      resolve(s);
    });
    req.once('response', (res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    req.once('error', reject);
    req.end();
  });
}

for (const variant of engineVariants()) {
  describe(
    `chat ends the sockets of an ended session (${variant.name})`,
    { skip: variant.skip },
    () => {
      let d: Deployment;
      let replica: Replica;
      const owner = newUser('own');
      const sender = newUser('snd');
      const other = newUser('oth');

      before(async () => {
        d = await variant.open();
        replica = await startReplica(d, { CHAT_HEARTBEAT_TIMEOUT_MS: '60000' });
        await register(d, owner, sender, other);
      });

      after(async () => {
        disconnectAll();
        await replica.close();
        await d.cleanup();
      });

      test('the socket closes with 4001 and a shout sent across the close is not stored nor delivered', async () => {
        const topic = `room:${owner.username}`;
        const viewer = connect(replica, d.secret, null).channel(topic);
        const seen = collect<ChatMessage>(viewer, 'shout');
        assert.equal((await join(viewer)).status, 'ok');
        const speaker = connect(replica, d.secret, other).channel(topic);
        assert.equal((await join(speaker)).status, 'ok');

        const session = randomUUID();
        const ending = await handSocket(replica, d.secret, sender, session);
        const kept = await handSocket(replica, d.secret, sender, randomUUID());
        ending.sendText(JSON.stringify(['1', '1', topic, 'phx_join', {}]));
        assert.equal((await ending.reply('1')).status, 'ok');
        ending.sendText(JSON.stringify(['1', '2', topic, 'shout', { body: 'before the end' }]));
        assert.equal((await ending.reply('2')).status, 'ok');

        await d.bus.publish('identity.session.revoked.v1', {
          userId: sender.id,
          sessionIds: [session],
          reason: 'logout',
          revokedAt: new Date().toISOString(),
        });
        const close = await ending.next((f) => f.opcode === 0x8);
        assert.equal(close.payload.readUInt16BE(0), 4001);
        assert.equal(close.payload.subarray(2).toString(), 'session ended');

        // The client had not seen the close yet when it sent this one.
        const late = `after the end ${randomUUID()}`;
        ending.sendText(JSON.stringify(['1', '3', topic, 'shout', { body: late }]));
        ending.tcp.write(clientFrame(0x8, Buffer.from([0x0f, 0xa1])));
        await ending.ended;

        // Anything the ended socket got through would be in the room before this.
        const marker = await push(speaker, 'shout', { body: 'marker' });
        assert.equal(marker.status, 'ok');
        await waitFor(() => seen.some((m) => m.body === 'marker'), { what: 'the marker' });
        assert.ok(seen.some((m) => m.body === 'before the end'));
        assert.ok(!seen.some((m) => m.body === late), 'the late shout reached the room');
        const stored = await d.db.query(`SELECT 1 FROM chat.messages WHERE body = $1`, [late]);
        assert.equal(stored.length, 0, 'the late shout was stored');

        // The same user's socket of another session lives on.
        kept.sendText(JSON.stringify(['2', '1', 'phoenix', 'heartbeat', {}]));
        assert.equal((await kept.reply('1')).status, 'ok');
        kept.tcp.destroy();
      });
    },
  );
}
