import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from '@neon/contracts';
import type { StoredMessage } from '../store/chat.repository.js';
import { MessageWriter } from './message-writer.js';

const msg = (id: string): ChatMessage => ({
  id,
  body: id,
  sender: { id: 'u', username: 'u', displayName: 'u', badges: [] },
  sentAt: new Date(0).toISOString(),
});

test('sends the first message after a quiet spell at once, batches what follows in order, and acknowledges after delivery', async () => {
  const written: string[][] = [];
  const delivered: string[][] = [];
  const w = new MessageWriter(
    async (batch: readonly StoredMessage[]) => {
      written.push(batch.map((m) => m.message.id));
    },
    async (batch) => {
      delivered.push(batch.map((m) => m.message.id));
    },
    20,
    3,
  );
  const acks: string[] = [];
  const add = (id: string) =>
    w.enqueue({ channel: 'c', message: msg(id), done: (err) => !err && acks.push(id) });
  ['a', 'b', 'c', 'd'].forEach(add);
  await w.drain();
  // `a` found the writer quiet; the rest arrived while it was written, and the batch cap is 3.
  assert.deepEqual(written, [['a'], ['b', 'c', 'd']]);
  assert.deepEqual(delivered, written);
  assert.deepEqual(acks, ['a', 'b', 'c', 'd']);
});

test('a failed write refuses its batch and the writer carries on', async () => {
  let fail = true;
  const w = new MessageWriter(
    async () => {
      if (fail) {
        fail = false;
        throw new Error('db down');
      }
    },
    async () => undefined,
    5,
    10,
  );
  const outcome: string[] = [];
  w.enqueue({ channel: 'c', message: msg('x'), done: (e) => outcome.push(e ? 'x:err' : 'x:ok') });
  await new Promise((r) => setTimeout(r, 30));
  w.enqueue({ channel: 'c', message: msg('y'), done: (e) => outcome.push(e ? 'y:err' : 'y:ok') });
  await w.drain();
  assert.deepEqual(outcome, ['x:err', 'y:ok']);
});

test('the window counts from arrival: a message that waited long enough already is written at once', () => {
  const written: string[] = [];
  const w = new MessageWriter(
    async (batch: readonly StoredMessage[]) => {
      written.push(...batch.map((m) => m.message.id));
    },
    async () => undefined,
    60_000,
    10,
  );
  w.enqueue(
    { channel: 'c', message: msg('old'), done: () => undefined },
    performance.now() - 60_000,
  );
  assert.deepEqual(written, ['old']);
  return w.drain();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a cheap flush is not waited for: messages a little apart go one by one, whatever the cap', async () => {
  const written: string[][] = [];
  const w = new MessageWriter(
    async (batch: readonly StoredMessage[]) => {
      written.push(batch.map((m) => m.message.id));
    },
    async () => undefined,
    1000,
    100,
  );
  for (const id of ['a', 'b', 'c']) {
    w.enqueue({ channel: 'c', message: msg(id), done: () => undefined });
    await sleep(15);
  }
  await w.drain();
  assert.deepEqual(written, [['a'], ['b'], ['c']]);
});

test('a costly flush (a crowded room) makes the messages behind it wait together', async () => {
  const written: string[][] = [];
  const w = new MessageWriter(
    async (batch: readonly StoredMessage[]) => {
      written.push(batch.map((m) => m.message.id));
    },
    // The broadcast to many sockets, as the writer times it.
    async () => {
      const until = performance.now() + 30;
      while (performance.now() < until);
    },
    1000,
    100,
  );
  const add = (id: string) => w.enqueue({ channel: 'c', message: msg(id), done: () => undefined });
  add('a');
  await sleep(50);
  // Its window is now about five flushes long (150 ms): b, c and d arrive within it.
  for (const id of ['b', 'c', 'd']) {
    add(id);
    await sleep(10);
  }
  await w.drain();
  assert.deepEqual(written, [['a'], ['b', 'c', 'd']]);
});
